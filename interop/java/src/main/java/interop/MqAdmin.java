/*
 * Runs the real mqadmin of rocketmq-tools 4.8.0 (MQAdminStartup) in this JVM and returns what it
 * printed. MQAdminStartup catches every exception and prints its stack trace instead of exiting
 * non-zero, so callers assert on the captured output; stderr is captured too and shown on failure.
 */
package interop;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.apache.rocketmq.tools.command.MQAdminStartup;

final class MqAdmin {
    /** What one mqadmin call printed. */
    static final class Result {
        final String out;
        final String err;

        Result(String out, String err) {
            this.out = out;
            this.err = err;
        }

        boolean failed() {
            return err.contains("Exception") || out.contains("Exception");
        }

        @Override
        public String toString() {
            return "--- stdout ---\n" + out + "--- stderr ---\n" + err;
        }
    }

    private MqAdmin() {
    }

    static synchronized Result run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            System.setOut(o);
            System.setErr(e);
            MQAdminStartup.main0(args, null);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Result(out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Runs mqadmin and fails the suite if it printed an exception. */
    static String ok(String... args) {
        Result r = run(args);
        Check.that(!r.failed(), "mqadmin " + String.join(" ", args) + " failed:\n" + r);
        return r.out;
    }
}
