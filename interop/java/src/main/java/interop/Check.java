/*
 * Interop suite helper: assertions that fail the suite with a readable message.
 * Java's `assert` is off by default, so the suite uses these instead.
 */
package interop;

final class Check {
    private Check() {
    }

    static void that(boolean condition, String message) {
        if (!condition) {
            throw new AssertionError(message);
        }
    }

    static void contains(String haystack, String needle, String what) {
        if (!haystack.contains(needle)) {
            throw new AssertionError(what + ": expected output to contain \"" + needle + "\", got:\n" + haystack);
        }
    }

    static void ok(String name) {
        System.out.println("  ok   " + name);
    }
}
