/*
 * Runs the real mqadmin of rocketmq-tools 4.8.0 (MQAdminStartup) in this JVM and returns what it
 * printed. MQAdminStartup catches every exception and prints its stack trace instead of exiting
 * non-zero, so callers assert on the captured output; stderr is captured too and shown on failure.
 */
package interop;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.UnsupportedEncodingException;
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
        try {
            return capture(args);
        } catch (UnsupportedEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Result capture(String... args) throws UnsupportedEncodingException {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (PrintStream o = new PrintStream(out, true, "UTF-8");
             PrintStream e = new PrintStream(err, true, "UTF-8")) {
            System.setOut(o);
            System.setErr(e);
            MQAdminStartup.main0(args, null);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Result(out.toString("UTF-8"), err.toString("UTF-8"));
    }

    /** Repeats an mqadmin call until its output contains `needle` (and no exception), or fails. */
    static String waitFor(String what, String needle, int seconds, String... args) throws InterruptedException {
        long deadline = System.currentTimeMillis() + seconds * 1000L;
        Result last;
        do {
            last = run(args);
            if (!last.failed() && last.out.contains(needle)) {
                return last.out;
            }
            Thread.sleep(500);
        } while (System.currentTimeMillis() < deadline);
        throw new AssertionError(what + ": \"" + needle + "\" not seen within " + seconds + " s; last output:\n" + last);
    }

    /** Creates a 4/4-queue topic on every master of `cluster` and waits for its route. */
    static void createTopic(String ns, String cluster, String brokerAddr, String topic) throws InterruptedException {
        String created = ok("updateTopic", "-n", ns, "-c", cluster, "-t", topic, "-r", "4", "-w", "4");
        Check.contains(created, "create topic to " + brokerAddr + " success", "updateTopic -c");
        waitFor("mqadmin topicRoute " + topic, brokerAddr, 30, "topicRoute", "-n", ns, "-t", topic);
    }

    /** Runs mqadmin and fails the suite if it printed an exception. */
    static String ok(String... args) {
        Result r = run(args);
        Check.that(!r.failed(), "mqadmin " + String.join(" ", args) + " failed:\n" + r);
        return r.out;
    }
}
