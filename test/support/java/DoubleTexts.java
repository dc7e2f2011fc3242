// The oracle of the differential test of formatJavaDouble: prints "<raw bits as 16 hex digits> <Double.toString>"
// per line, first the edge cases, then `count` doubles drawn from `seed`.
//
// Usage: java DoubleTexts <seed> <count>

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.SplittableRandom;

public final class DoubleTexts {
    private static final byte[] HEX = "0123456789abcdef".getBytes();
    private static final long SIGN = 0x8000_0000_0000_0000L;
    private static final long SIGNIFICAND = 0x000f_ffff_ffff_ffffL;

    private final OutputStream out;
    private final byte[] line = new byte[64];
    private long lines;

    private DoubleTexts(OutputStream out) {
        this.out = out;
    }

    public static void main(String[] args) throws IOException {
        long seed = Long.parseLong(args[0]);
        long count = Long.parseLong(args[1]);
        DoubleTexts texts = new DoubleTexts(new BufferedOutputStream(System.out, 1 << 16));
        texts.edgeCases();
        SplittableRandom random = new SplittableRandom(seed);
        for (long i = 0; i < count; i++) texts.emit(texts.draw(random));
        texts.out.flush();
        System.err.println(texts.lines + " doubles");
    }

    private void emit(double value) throws IOException {
        long bits = Double.doubleToRawLongBits(value);
        for (int i = 0; i < 16; i++) line[i] = HEX[(int) (bits >>> (60 - 4 * i)) & 15];
        line[16] = ' ';
        String text = Double.toString(value);
        int end = 17;
        for (int i = 0; i < text.length(); i++) line[end++] = (byte) text.charAt(i);
        line[end++] = '\n';
        out.write(line, 0, end);
        lines++;
    }

    /** The value and its neighbours `ulps` steps away on either side, both signs. */
    private void around(double value, int ulps) throws IOException {
        double up = value;
        double down = value;
        emit(value);
        emit(-value);
        for (int i = 0; i < ulps; i++) {
            up = Math.nextUp(up);
            down = Math.nextDown(down);
            emit(up);
            emit(down);
            emit(-up);
            emit(-down);
        }
    }

    private void edgeCases() throws IOException {
        emit(0.0);
        emit(-0.0);
        emit(Double.NaN);
        emit(Double.POSITIVE_INFINITY);
        emit(Double.NEGATIVE_INFINITY);
        for (int k = 1; k <= 4096; k++) emit(k * Double.MIN_VALUE);
        around(Double.MIN_NORMAL, 8);
        around(Double.MAX_VALUE, 8);
        for (int k = -1074; k <= 1023; k++) around(Math.scalb(1.0, k), 2);
        for (int k = -324; k <= 308; k++) {
            around(Double.parseDouble("1E" + k), 3);
            for (int digit = 2; digit <= 9; digit++) around(Double.parseDouble(digit + "E" + k), 1);
        }
        // Integers where Java starts dropping digits (2^54 and up) and stops printing them (2^63).
        for (int k = 50; k <= 70; k++) around(Math.scalb(1.0, k), 40);
        // Short decimals at every scale a score or a timestamp may have.
        for (int k = -30; k <= 30; k++) {
            for (int n = 1; n < 1000; n++) around(Double.parseDouble(n + "E" + k), 1);
        }
        String[] known = {"1e23", "2e23", "8.41e21", "5e-324", "9007199254740993", "0.1", "0.2", "0.3", "0.7",
            "0.30000000000000004", "1e7", "9999999.999999998", "0.001", "0.0009999999999999998", "1e-3", "28.5",
            "1.0E-5", "4.35", "100.0", "1e21", "1e22", "123456789012345.6"};
        for (String text : known) around(Double.parseDouble(text), 3);
    }

    private double draw(SplittableRandom random) {
        double value;
        switch (random.nextInt(12)) {
            case 0:
            case 1:
            case 2:
                value = Double.longBitsToDouble(random.nextLong());
                break;
            case 3:
                // Random significand, magnitude from 1e-21 to 1e21.
                long exponent = 1023 + random.nextInt(-70, 71);
                value = Double.longBitsToDouble((exponent << 52) | (random.nextLong() & SIGNIFICAND));
                break;
            case 4:
                value = random.nextInt(-10_000_000, 10_000_001) / 100.0; // risk scores: hundredths
                break;
            case 5:
                value = random.nextBoolean()
                    ? (double) (float) (random.nextInt(-10_000_000, 10_000_001) / 100.0) // scores held in a float
                    : (double) Float.intBitsToFloat(random.nextInt());
                break;
            case 6:
            case 7:
                value = decimal(random);
                break;
            case 8:
                value = decimal(random);
                for (int steps = random.nextInt(1, 4); steps > 0; steps--) {
                    value = random.nextBoolean() ? Math.nextUp(value) : Math.nextDown(value);
                }
                break;
            case 9:
                value = (double) (random.nextLong() >>> random.nextInt(64)); // integers of every length
                break;
            case 10:
                value = Double.longBitsToDouble(random.nextLong() & SIGNIFICAND); // subnormals
                break;
            default:
                // A power of two or ten, a few ulps off.
                double base = random.nextBoolean()
                    ? Math.scalb(1.0, random.nextInt(-1074, 1024))
                    : Double.parseDouble("1E" + random.nextInt(-323, 309));
                long bits = Double.doubleToRawLongBits(base) + random.nextInt(-3, 4);
                value = Double.longBitsToDouble(bits & ~SIGN);
        }
        return random.nextBoolean() ? value : -value;
    }

    /** A decimal of 1 to 17 random digits, mostly at everyday scales, sometimes at any. */
    private static double decimal(SplittableRandom random) {
        int digits = random.nextInt(1, 18);
        long mantissa = random.nextLong(1, 10);
        for (int i = 1; i < digits; i++) mantissa = mantissa * 10 + random.nextInt(10);
        int exponent = random.nextInt(4) == 0 ? random.nextInt(-340, 310) : random.nextInt(-25, 25);
        return Double.parseDouble(mantissa + "E" + exponent);
    }
}
