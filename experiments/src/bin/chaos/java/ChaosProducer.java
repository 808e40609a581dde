// ChaosProducer.java: the official Java producers of the chaos experiment
// (experiments/src/bin/chaos.rs, book Part IV "Breaking it on purpose"). rocketmq-client 4.8.0
// DefaultMQProducer, one per name on the command line, each in a thread of its own, sends keyed
// messages synchronously, one after another, as the experiment's own producers do
// (workload.rs): the key is "<name>-<seq, 8 digits>", the body the key, a dash and padding.
//
// Every send, acknowledged or not, becomes one line of OUT_DIR/<name>.sends, flushed at once:
//   <endMillis> <status> <brokerName> <queueId> <queueOffset> <msgId> <body> [<reason>]
// status is SEND_OK or another SendStatus (brokerName, queueId, queueOffset and msgId from the
// SendResult), or ERROR when send threw (then "-", -1, -1, "-" and, last, the exception's class
// and the first line of its message). The experiment reads these files after the stop, so a
// SEND_OK line is exactly a message the client was told is stored, with the position it was told.
//
// The client keeps 4.8.0's defaults: sendMsgTimeout 3000 ms for a send and all its retries,
// retryTimesWhenSendFailed 2 (another broker group first), pollNameServerInterval 30 s (no route
// refresh after a failure), sendLatencyFaultEnable false, VIP channel off.
// After an acknowledged send a producer pauses PAUSE_MS, after a failed one 20 ms. It stops when
// STOP_FILE exists and prints one summary line per producer on stdout:
//   <name> summary: sends=N acked=N failed=N errors={Exception[/Cause][:code]=N, ...}
//
// Usage: ChaosProducer NAMESRV TOPIC OUT_DIR STOP_FILE PAUSE_MS BODY_BYTES NAME...
import java.io.FileWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageQueue;

public class ChaosProducer {
    public static void main(String[] args) throws Exception {
        if (args.length < 7) {
            System.err.println("usage: ChaosProducer NAMESRV TOPIC OUT_DIR STOP_FILE PAUSE_MS BODY_BYTES NAME...");
            System.exit(2);
        }
        String namesrv = args[0], topic = args[1];
        Path outDir = Paths.get(args[2]), stop = Paths.get(args[3]);
        long pauseMs = Long.parseLong(args[4]);
        int bodyBytes = Integer.parseInt(args[5]);
        List<Thread> threads = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (int i = 6; i < args.length; i++) {
            String name = args[i];
            Thread t = new Thread(() -> {
                try {
                    run(namesrv, topic, outDir.resolve(name + ".sends"), stop, pauseMs, bodyBytes, name);
                } catch (Exception e) {
                    synchronized (failures) {
                        failures.add(name + ": " + firstLine(e));
                    }
                }
            }, "chaos-" + name);
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        if (!failures.isEmpty()) {
            System.err.println("ChaosProducer failed: " + failures);
            System.exit(1);
        }
    }

    static void run(String namesrv, String topic, Path file, Path stop, long pauseMs, int bodyBytes,
            String name) throws Exception {
        DefaultMQProducer p = new DefaultMQProducer("chaos_java_pg");
        p.setNamesrvAddr(namesrv);
        p.setInstanceName("chaos-" + name);
        p.start();
        String pad = "x".repeat(Math.max(0, bodyBytes - 16));
        long seq = 0, acked = 0, failed = 0;
        Map<String, Long> errors = new TreeMap<>();
        try (PrintWriter out = new PrintWriter(new FileWriter(file.toFile(), StandardCharsets.UTF_8))) {
            while (!Files.exists(stop)) {
                String key = String.format("%s-%08d", name, seq);
                String body = key + "-" + pad;
                seq++;
                Message m = new Message(topic, "chaos", key, body.getBytes(StandardCharsets.UTF_8));
                String line;
                boolean ok = false;
                try {
                    SendResult r = p.send(m);
                    MessageQueue q = r.getMessageQueue();
                    line = System.currentTimeMillis() + " " + r.getSendStatus() + " " + q.getBrokerName() + " "
                            + q.getQueueId() + " " + r.getQueueOffset() + " " + r.getMsgId() + " " + body;
                    ok = r.getSendStatus() == SendStatus.SEND_OK;
                } catch (Exception e) {
                    errors.merge(errorKind(e), 1L, Long::sum);
                    line = System.currentTimeMillis() + " ERROR - -1 -1 - " + body + " " + firstLine(e);
                }
                out.println(line);
                out.flush();
                if (ok) {
                    acked++;
                } else {
                    failed++;
                }
                Thread.sleep(ok ? pauseMs : 20);
            }
        } finally {
            p.shutdown();
        }
        System.out.println(name + " summary: sends=" + seq + " acked=" + acked + " failed=" + failed
                + " errors=" + errors);
    }

    // The exception's class, its cause's class and the response code it carries, if any.
    private static String errorKind(Exception e) {
        String k = e.getClass().getSimpleName();
        if (e.getCause() != null) {
            k += "/" + e.getCause().getClass().getSimpleName();
        }
        if (e instanceof MQClientException) {
            k += ":" + ((MQClientException) e).getResponseCode();
        } else if (e instanceof MQBrokerException) {
            k += ":" + ((MQBrokerException) e).getResponseCode();
        }
        return k;
    }

    private static String firstLine(Throwable e) {
        String m = e.getClass().getSimpleName() + ": " + e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
