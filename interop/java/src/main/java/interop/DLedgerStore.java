/*
 * The Java half of the DLedger store interchange (interop/dledger-store/run.sh): the official
 * rocketmq-client 4.8.0 producer writes keyed messages into whichever broker serves the topic, and
 * later, after the store has changed hands (our mqbroker <-> a real 4.8.0 DLedger broker), the
 * official push consumer and the real mqadmin 4.8.0 read them back from the other broker.
 *
 *   DLedgerStore produce NAMESRV TOPIC COUNT SENT_FILE
 *       sends COUNT messages synchronously; message i has the key "dls-key-<i>", the tag "t<i%3>"
 *       and the body body(i) (every 50th body is 6000 bytes, so the producer compresses it);
 *       writes "<i> <msgId> <offsetMsgId> <queueId> <queueOffset>" per message to SENT_FILE.
 *   DLedgerStore check NAMESRV TOPIC SENT_FILE
 *       a push consumer of a new group, CONSUME_FROM_FIRST_OFFSET, must receive every body of
 *       SENT_FILE exactly as sent; then mqadmin queryMsgByKey must list the msgId of a sample of
 *       keys and mqadmin queryMsgById (with the offset msgId the producer was given) must return
 *       the key and the exact body. One line per check ("ok"/"FAIL"), exit 1 on any failure.
 */
package interop;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

public final class DLedgerStore {
    private DLedgerStore() {
    }

    static String key(int i) {
        return "dls-key-" + i;
    }

    /** The body of message i: its number, then filler; every 50th is above the 4 KiB compression threshold. */
    static byte[] body(int i) {
        int len = i % 50 == 0 ? 6000 : 60 + (i * 37) % 700;
        StringBuilder b = new StringBuilder("dls-body-" + i + "-");
        char fill = (char) ('a' + i % 26);
        while (b.length() < len) {
            b.append(fill);
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The message number a body starts with, or -1. */
    static int numberOf(byte[] body) {
        String s = new String(body, 0, Math.min(body.length, 24), StandardCharsets.UTF_8);
        if (!s.startsWith("dls-body-")) {
            return -1;
        }
        int end = s.indexOf('-', 9);
        try {
            return Integer.parseInt(s.substring(9, end < 0 ? s.length() : end));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 5 && args[0].equals("produce")) {
            produce(args[1], args[2], Integer.parseInt(args[3]), args[4]);
        } else if (args.length == 4 && args[0].equals("check")) {
            System.exit(check(args[1], args[2], args[3]) ? 0 : 1);
        } else {
            System.err.println("usage: DLedgerStore produce NAMESRV TOPIC COUNT SENT_FILE | check NAMESRV TOPIC SENT_FILE");
            System.exit(2);
        }
    }

    static void produce(String ns, String topic, int count, String sentFile) throws Exception {
        DefaultMQProducer p = new DefaultMQProducer("dls_producer");
        p.setNamesrvAddr(ns);
        p.setInstanceName("dls-producer-" + System.nanoTime());
        p.setSendMsgTimeout(5000);
        p.start();
        List<String> lines = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                Message m = new Message(topic, "t" + (i % 3), key(i), body(i));
                SendResult r = null;
                for (int attempt = 0; attempt < 20 && r == null; attempt++) {
                    try {
                        r = p.send(m);
                    } catch (Exception e) {
                        // The route may not be there yet right after the broker's start.
                        System.out.println("produce: message " + i + " attempt " + attempt + ": " + e.getMessage());
                        Thread.sleep(500);
                    }
                }
                Check.that(r != null && r.getSendStatus() == SendStatus.SEND_OK, "message " + i + " not acknowledged: " + r);
                lines.add(i + " " + r.getMsgId() + " " + r.getOffsetMsgId() + " " + r.getMessageQueue().getQueueId()
                        + " " + r.getQueueOffset());
            }
        } finally {
            p.shutdown();
        }
        Files.write(Paths.get(sentFile), lines, StandardCharsets.UTF_8);
        System.out.println("produce: sent=" + count + " (every one SEND_OK)");
    }

    static boolean check(String ns, String topic, String sentFile) throws Exception {
        List<String[]> sent = new ArrayList<>();
        for (String line : Files.readAllLines(Paths.get(sentFile), StandardCharsets.UTF_8)) {
            if (!line.isEmpty()) {
                sent.add(line.split(" "));
            }
        }
        int n = sent.size();
        boolean ok = consumeAll(ns, topic, n);
        int[] samples = {0, 50, n / 2, n - 1};
        int keysFound = 0;
        int idsFound = 0;
        for (int i : samples) {
            if (i < 0 || i >= n) {
                continue;
            }
            String[] s = sent.get(i);
            MqAdmin.Result byKey = MqAdmin.run("queryMsgByKey", "-n", ns, "-t", topic, "-k", key(i));
            if (!byKey.failed() && byKey.out.contains(s[1])) {
                keysFound++;
            } else {
                System.out.println("    queryMsgByKey " + key(i) + " does not list msgId " + s[1] + ":\n" + byKey);
            }
            MqAdmin.Result byId = MqAdmin.run("queryMsgById", "-n", ns, "-i", s[2]);
            String bodyPath = field(byId.out, "Message Body Path:");
            boolean same = false;
            if (bodyPath != null && new File(bodyPath).isFile()) {
                same = Arrays.equals(Files.readAllBytes(Paths.get(bodyPath)), body(i));
                new File(bodyPath).delete();
            }
            if (!byId.failed() && byId.out.contains("[" + key(i) + "]") && same) {
                idsFound++;
            } else {
                System.out.println("    queryMsgById " + s[2] + " (" + key(i) + "): key shown "
                        + byId.out.contains("[" + key(i) + "]") + ", body equal " + same + ":\n" + byId);
            }
        }
        int wanted = (int) Arrays.stream(samples).filter(i -> i >= 0 && i < n).count();
        System.out.println((keysFound == wanted ? "  ok   " : "  FAIL ") + "mqadmin 4.8.0 queryMsgByKey: " + keysFound
                + "/" + wanted + " keys list their msgId");
        System.out.println((idsFound == wanted ? "  ok   " : "  FAIL ") + "mqadmin 4.8.0 queryMsgById: " + idsFound
                + "/" + wanted + " offset msgIds give the key and the exact body");
        return ok && keysFound == wanted && idsFound == wanted;
    }

    /** The value after `label` on its line of mqadmin's output, or null. */
    static String field(String out, String label) {
        for (String line : out.split("\n")) {
            if (line.startsWith(label)) {
                return line.substring(label.length()).trim();
            }
        }
        return null;
    }

    /** A push consumer of a new group from the first offset must receive body(i) for every i < n. */
    static boolean consumeAll(String ns, String topic, int n) throws Exception {
        Map<Integer, Boolean> seen = new ConcurrentHashMap<>();
        AtomicInteger wrong = new AtomicInteger();
        AtomicInteger deliveries = new AtomicInteger();
        DefaultMQPushConsumer c = new DefaultMQPushConsumer("dls_check_" + System.currentTimeMillis());
        c.setNamesrvAddr(ns);
        c.setInstanceName("dls-check-" + System.nanoTime());
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.subscribe(topic, "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                deliveries.incrementAndGet();
                int i = numberOf(m.getBody());
                if (i >= 0 && i < n && Arrays.equals(m.getBody(), body(i)) && key(i).equals(m.getKeys())) {
                    seen.put(i, true);
                } else {
                    if (wrong.incrementAndGet() <= 5) {
                        System.out.println("    unexpected message: keys=" + m.getKeys() + " body="
                                + new String(m.getBody(), 0, Math.min(40, m.getBody().length), StandardCharsets.UTF_8));
                    }
                }
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();
        long deadline = System.currentTimeMillis() + 60_000;
        int last = -1;
        long lastChange = System.currentTimeMillis();
        while (seen.size() < n && System.currentTimeMillis() < deadline) {
            Thread.sleep(200);
            if (seen.size() != last) {
                last = seen.size();
                lastChange = System.currentTimeMillis();
            } else if (System.currentTimeMillis() - lastChange > 20_000) {
                break; // nothing new for 20 s: what is missing will not come
            }
        }
        c.shutdown();
        boolean ok = seen.size() == n && wrong.get() == 0;
        System.out.println((ok ? "  ok   " : "  FAIL ") + "push consumer 4.8.0 from the first offset: " + seen.size() + "/" + n
                + " messages with their exact body and key, " + wrong.get() + " unexpected, " + deliveries.get()
                + " deliveries");
        return ok;
    }
}
