package stedi.bench.kstreams;

import com.fasterxml.jackson.databind.JsonNode;

/** Reads `stedi-events` records, the STEDI app's risk scores (contracts §2), with stedi's rules. */
final class RiskEvents {
    record RiskScore(String customer, double score) {}

    private RiskEvents() {}

    /**
     * The customer (an email, what the join matches on) and score of a risk event: a non-empty string
     * customer, a finite number score, and a riskDate that, when present, is an ISO-8601 instant string.
     * Null for anything else.
     */
    static RiskScore decode(byte[] value) {
        JsonNode event = Json.parse(value);
        if (event == null || !event.isObject()) return null;
        JsonNode customer = event.get("customer");
        JsonNode score = event.get("score");
        JsonNode riskDate = event.get("riskDate");
        if (customer == null || !customer.isTextual() || customer.textValue().isEmpty()) return null;
        if (score == null || !score.isNumber() || !Double.isFinite(score.doubleValue())) return null;
        if (riskDate != null && !(riskDate.isTextual() && CalendarDates.isInstant(riskDate.textValue()))) return null;
        return new RiskScore(customer.textValue(), score.doubleValue());
    }
}
