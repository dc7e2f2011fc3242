package stedi.bench.kstreams;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the customers out of `redis-server` records, the Redis source connector's JSON (contracts §1), with
 * stedi's rules: a ZADD to the sorted set {@code Customer} (or a snapshot of it) carries customers as base64
 * JSON elements; every entry counts, not only the first; other keys and commands are skipped, not errors.
 */
final class ConnectorRecords {
    static final String CUSTOMER_SET = "Customer";

    record Customer(String email, String birthYear) {}

    enum Kind { CUSTOMERS, SKIPPED, REJECTED }

    /** CUSTOMERS lists the usable entries and counts the others; REJECTED is a record with none usable. */
    record Decoded(Kind kind, List<Customer> customers, int rejectedEntries) {
        static final Decoded SKIPPED = new Decoded(Kind.SKIPPED, List.of(), 0);
        static final Decoded REJECTED = new Decoded(Kind.REJECTED, List.of(), 0);
    }

    private ConnectorRecords() {}

    static Decoded decode(byte[] value) {
        JsonNode record = Json.parse(value);
        if (record == null || !record.isObject()) return Decoded.REJECTED;
        if (!record.has("key")) return Decoded.SKIPPED; // not a single-key command (SELECT, FLUSHDB, DEL…)
        JsonNode encodedKey = record.get("key");
        if (!encodedKey.isTextual()) return Decoded.REJECTED;
        String key = Json.base64Text(encodedKey.textValue());
        if (key == null) return Decoded.REJECTED;
        if (!key.equals(CUSTOMER_SET)) return Decoded.SKIPPED;

        JsonNode entries = present(record.get("zSetEntries"));
        if (entries == null) entries = present(record.get("zsetEntries"));
        if (entries == null && isSortedSetSnapshot(record)) entries = record.get("value");
        if (entries == null) return Decoded.SKIPPED;
        if (!entries.isArray()) return Decoded.REJECTED;

        List<Customer> customers = new ArrayList<>(entries.size());
        int rejected = 0;
        for (JsonNode entry : entries) {
            JsonNode element = entry.isObject() ? entry.get("element") : null;
            String text = element != null && element.isTextual() ? Json.base64Text(element.textValue()) : null;
            Customer customer = text == null ? null : decodeCustomer(text);
            if (customer == null) rejected++;
            else customers.add(customer);
        }
        if (customers.isEmpty() && rejected > 0) return new Decoded(Kind.REJECTED, List.of(), rejected);
        return new Decoded(Kind.CUSTOMERS, customers, rejected);
    }

    /**
     * A customer document: a non-empty string email, a real {@code yyyy-MM-dd} birthDay, and customerName
     * and phone absent or strings; the birth year is the date's year part. Null for anything else.
     */
    static Customer decodeCustomer(String text) {
        JsonNode customer = Json.parse(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        if (customer == null || !customer.isObject()) return null;
        JsonNode email = customer.get("email");
        JsonNode birthDay = customer.get("birthDay");
        if (email == null || !email.isTextual() || email.textValue().isEmpty()) return null;
        if (birthDay == null || !birthDay.isTextual()) return null;
        if (!absentOrText(customer.get("customerName")) || !absentOrText(customer.get("phone"))) return null;
        String birthYear = CalendarDates.yearOfDate(birthDay.textValue());
        return birthYear == null ? null : new Customer(email.textValue(), birthYear);
    }

    /** JSON null counts as absent, as JavaScript's {@code ??} treats it. */
    private static JsonNode present(JsonNode node) {
        return node == null || node.isNull() ? null : node;
    }

    private static boolean absentOrText(JsonNode node) {
        return node == null || node.isTextual();
    }

    private static boolean isSortedSetSnapshot(JsonNode record) {
        JsonNode value = record.get("value");
        if (!record.has("valueRdbType") || value == null || !value.isArray()) return false;
        for (JsonNode entry : value) if (!entry.isObject() || !entry.has("element")) return false;
        return true;
    }
}
