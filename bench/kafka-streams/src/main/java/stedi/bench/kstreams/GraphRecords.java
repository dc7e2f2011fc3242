package stedi.bench.kstreams;

/** The joined record the risk graph plots (contracts §3), byte for byte as stedi writes it. */
final class GraphRecords {
    private GraphRecords() {}

    /**
     * {@code {"customer":…,"score":"…","email":…,"birthYear":"…"}}: score as Java's Double.toString writes
     * it. JDK 17 is the reference the contracts name; JDK 19 and later print some doubles shorter.
     */
    static String encode(String email, double score, String birthYear) {
        String quotedEmail = Json.quote(email);
        return "{\"customer\":" + quotedEmail
            + ",\"score\":" + Json.quote(Double.toString(score))
            + ",\"email\":" + quotedEmail
            + ",\"birthYear\":" + Json.quote(birthYear) + "}";
    }
}
