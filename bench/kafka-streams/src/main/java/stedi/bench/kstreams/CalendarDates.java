package stedi.bench.kstreams;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Calendar dates as the STEDI app writes them ({@code yyyy-MM-dd}) and ISO-8601 instants, checked without a clock. */
final class CalendarDates {
    private static final Pattern DATE = Pattern.compile("(\\d{4})-(\\d{2})-(\\d{2})");
    private static final Pattern INSTANT = Pattern.compile(
        "(\\d{4}-\\d{2}-\\d{2})T(\\d{2}):(\\d{2}):(\\d{2})(?:\\.\\d+)?(?:Z|[+-](\\d{2}):?(\\d{2}))");

    private CalendarDates() {}

    /** The year part of a real {@code yyyy-MM-dd} date, as written (e.g. "0007"); null for anything else. */
    static String yearOfDate(String text) {
        Matcher match = DATE.matcher(text);
        if (!match.matches()) return null;
        int year = Integer.parseInt(match.group(1));
        int month = Integer.parseInt(match.group(2));
        int day = Integer.parseInt(match.group(3));
        return isRealDate(year, month, day) ? match.group(1) : null;
    }

    /** Whether the text is an ISO-8601 instant with a real date, time of day and offset. */
    static boolean isInstant(String text) {
        Matcher match = INSTANT.matcher(text);
        if (!match.matches() || yearOfDate(match.group(1)) == null) return false;
        int hour = Integer.parseInt(match.group(2));
        int minute = Integer.parseInt(match.group(3));
        int second = Integer.parseInt(match.group(4));
        boolean offsetValid = match.group(5) == null
            || (Integer.parseInt(match.group(5)) <= 23 && Integer.parseInt(match.group(6)) <= 59);
        return hour <= 23 && minute <= 59 && second <= 59 && offsetValid;
    }

    /** Proleptic Gregorian, as java.time's LocalDate. */
    static boolean isRealDate(int year, int month, int day) {
        return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
    }

    private static int daysInMonth(int year, int month) {
        if (month == 2) return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28;
        return month == 4 || month == 6 || month == 9 || month == 11 ? 30 : 31;
    }
}
