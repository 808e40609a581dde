// Failover.java: the Java half of interop/dledger (see README.md there). The official
// rocketmq-client 4.8.0 DefaultMQProducer sends synchronous messages without pause to a topic
// served by a DLedger group of our mqbroker processes, while run.sh kills the group's leader.
//
// Every body is unique ("java-<run>-<seq>-<sendStartMillis>"; the last part lets a reader tell
// which sends began after an event, as the mixed-group experiment does). Each acknowledged send (SendStatus.SEND_OK) is
// appended, as "<ackMillis> <body>", to the ack file and flushed at once, so the file is
// exactly the set of messages the client was told are stored. Failed sends (exceptions after the
// client's own retries, or a status other than SEND_OK) are counted and logged with their time.
// The producer stops when the stop file appears and prints one summary line:
//   java summary: attempts=N acked=N errors=N notOk=N firstError=MS lastError=MS
//
// Usage: Failover NAMESRV TOPIC ACK_FILE STOP_FILE
import java.io.File;
import java.io.FileWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;

public class Failover {
    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: Failover NAMESRV TOPIC ACK_FILE STOP_FILE");
            System.exit(2);
        }
        String namesrv = args[0], topic = args[1];
        File stop = new File(args[3]);
        String run = Long.toString(System.currentTimeMillis(), 36);

        DefaultMQProducer p = new DefaultMQProducer("dledger_failover_java_" + run);
        p.setNamesrvAddr(namesrv);
        p.setInstanceName("dledger-failover-java-" + run);
        p.setSendMsgTimeout(3000);
        // 4.8.0 refreshes routes every 30 s by default and does not refresh on a failed send, so
        // the producer would keep using the dead leader's address for up to 30 s. A 1 s poll is
        // an ordinary client setting (pollNameServerInterval) that makes failover visible sooner.
        p.setPollNameServerInterval(1000);
        p.start();

        long attempts = 0, acked = 0, errors = 0, notOk = 0, firstError = 0, lastError = 0;
        try (PrintWriter out = new PrintWriter(new FileWriter(args[2], StandardCharsets.UTF_8))) {
            while (!stop.exists()) {
                String body = "java-" + run + "-" + attempts + "-" + System.currentTimeMillis();
                attempts++;
                try {
                    SendResult r = p.send(new Message(topic, "failover", body.getBytes(StandardCharsets.UTF_8)));
                    if (r.getSendStatus() == SendStatus.SEND_OK) {
                        out.println(System.currentTimeMillis() + " " + body);
                        out.flush();
                        acked++;
                    } else {
                        notOk++;
                        System.out.println("java: " + body + " status " + r.getSendStatus());
                    }
                } catch (Exception e) {
                    long now = System.currentTimeMillis();
                    if (errors == 0) {
                        firstError = now;
                    }
                    lastError = now;
                    errors++;
                    System.out.println("java: send error at " + now + ": " + firstLine(e));
                    Thread.sleep(50);
                }
            }
        } finally {
            p.shutdown();
        }
        System.out.println("java summary: attempts=" + attempts + " acked=" + acked + " errors=" + errors
                + " notOk=" + notOk + " firstError=" + firstError + " lastError=" + lastError);
    }

    private static String firstLine(Throwable e) {
        String m = e.getClass().getSimpleName() + ": " + e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
