package stedi.bench.kstreams;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** JSON and base64 text read as strictly as stedi reads them (JSON.parse, canonical padded base64, fatal UTF-8). */
final class Json {
    /** Thread-safe once configured; shared by the global thread and the stream threads. */
    private static final ObjectMapper MAPPER =
        new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Json() {}

    /** The parsed document; null when the bytes are not one JSON value. */
    static JsonNode parse(byte[] bytes) {
        if (bytes == null || bytes.length == 0) return null;
        try {
            return MAPPER.readTree(bytes);
        } catch (IOException notJson) {
            return null;
        }
    }

    /** The text of a padded standard base64 string holding UTF-8; null when either layer is invalid. */
    static String base64Text(String encoded) {
        // Java's decoder also takes unpadded input, which the connector never writes and stedi refuses.
        if (encoded.length() % 4 != 0) return null;
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(encoded);
        } catch (IllegalArgumentException notBase64) {
            return null;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes))
                .toString();
        } catch (CharacterCodingException notUtf8) {
            return null;
        }
    }

    /** A JSON string literal: quotes, backslashes and control characters escaped as JSON.stringify does. */
    static String quote(String text) {
        StringBuilder out = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        return out.append('"').toString();
    }
}
