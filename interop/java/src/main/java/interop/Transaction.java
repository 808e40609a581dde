/*
 * Interop program for transactional messages (RocketMQ 4.8.0's example package "transaction",
 * written anew): the official TransactionMQProducer and a DefaultMQPushConsumer against our
 * broker.
 *
 * The producer sends five kinds of messages; its TransactionListener decides by kind:
 *   commit-*            COMMIT_MESSAGE at once             -> delivered once
 *   rollback-*          ROLLBACK_MESSAGE at once           -> never delivered
 *   check-commit-*      UNKNOW, COMMIT_MESSAGE on check    -> delivered once, after a check-back
 *   check-rollback-*    UNKNOW, ROLLBACK_MESSAGE on check  -> never delivered
 *   unknown-*           UNKNOW, UNKNOW on every check      -> never delivered, checked again and again
 * The consumer must receive exactly the committed messages, each once, with their tags, keys,
 * user property and the COMMIT transaction type; the check-backs must have reached the
 * listener for every UNKNOW message and never for the ones decided at once.
 *
 * Usage: java interop.Transaction <namesrvAddr> <topic> [<syncDir>]
 * With <syncDir> (the DLedger failover run, interop/dledger/run.sh): after the half messages are
 * stored and the immediate commits consumed, the program writes <syncDir>/prepared and waits for
 * <syncDir>/killed (the leader was killed and a new one elected) before it waits for the
 * check-backs, which then come from the new leader.
 * Exit status 0 when every check passed, 1 otherwise.
 */
package interop;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.LocalTransactionState;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.client.producer.TransactionMQProducer;
import org.apache.rocketmq.client.producer.TransactionSendResult;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

public final class Transaction {
    private static final String[] KINDS = {"commit", "rollback", "check-commit", "check-rollback", "unknown"};
    private static final int PER_KIND = 4;
    private static final long ARRIVAL_LIMIT_MS = 90_000;

    private Transaction() {
    }

    /** The "local database": what each kind answers, and how often it was asked. */
    static final class Local implements TransactionListener {
        final Map<String, AtomicInteger> checks = new ConcurrentHashMap<>();
        final Map<String, String> idOf = new ConcurrentHashMap<>();
        final List<String> problems = java.util.Collections.synchronizedList(new ArrayList<>());

        private static String kind(String body) {
            return body.substring(0, body.lastIndexOf('-'));
        }

        @Override
        public LocalTransactionState executeLocalTransaction(Message msg, Object arg) {
            String body = new String(msg.getBody(), StandardCharsets.UTF_8);
            idOf.put(body, msg.getTransactionId());
            switch (kind(body)) {
                case "commit":
                    return LocalTransactionState.COMMIT_MESSAGE;
                case "rollback":
                    return LocalTransactionState.ROLLBACK_MESSAGE;
                default:
                    return LocalTransactionState.UNKNOW;
            }
        }

        @Override
        public LocalTransactionState checkLocalTransaction(MessageExt msg) {
            String body = new String(msg.getBody(), StandardCharsets.UTF_8);
            checks.computeIfAbsent(body, k -> new AtomicInteger()).incrementAndGet();
            String id = msg.getTransactionId();
            if (id == null || !id.equals(idOf.get(body))) {
                // Thrown here, it would only turn the answer into UNKNOW: report it at the end.
                problems.add("check-back for " + body + " names transaction " + id + ", the send named " + idOf.get(body));
            }
            switch (kind(body)) {
                case "commit":
                case "check-commit":
                    return LocalTransactionState.COMMIT_MESSAGE;
                case "rollback":
                case "check-rollback":
                    return LocalTransactionState.ROLLBACK_MESSAGE;
                default:
                    return LocalTransactionState.UNKNOW;
            }
        }

        int checksOf(String body) {
            AtomicInteger n = checks.get(body);
            return n == null ? 0 : n.get();
        }
    }

    public static void main(String[] args) {
        if (args.length != 2 && args.length != 3) {
            System.err.println("usage: Transaction <namesrvAddr> <topic> [<syncDir>]");
            System.exit(2);
        }
        int status = 0;
        try {
            run(args[0], args[1], args.length == 3 ? new File(args[2]) : null);
            System.out.println("java transaction interop: all checks passed");
        } catch (Throwable t) {
            System.out.println("java transaction interop: FAILED");
            t.printStackTrace(System.out);
            status = 1;
        }
        System.exit(status);
    }

    static void run(String ns, String topic, File sync) throws Exception {
        String runId = Long.toString(System.currentTimeMillis(), 36);
        Map<String, AtomicInteger> received = new ConcurrentHashMap<>();
        List<String> problems = new ArrayList<>();

        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer("interop_tx_cg_" + runId);
        consumer.setNamesrvAddr(ns);
        consumer.setInstanceName("interop-tx-consumer-" + runId);
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.setPollNameServerInterval(1000); // follow a new leader quickly
        consumer.subscribe(topic, "*");
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                String body = new String(m.getBody(), StandardCharsets.UTF_8);
                received.computeIfAbsent(body, k -> new AtomicInteger()).incrementAndGet();
                String tag = body.substring(0, body.lastIndexOf('-'));
                if (!tag.equals(m.getTags()) || !body.equals(m.getKeys())
                    || !runId.equals(m.getUserProperty("run")) || (m.getSysFlag() & 0xC) != 0x8) {
                    synchronized (problems) {
                        problems.add(body + ": tags=" + m.getTags() + " keys=" + m.getKeys() + " run="
                            + m.getUserProperty("run") + " sysFlag=" + m.getSysFlag());
                    }
                }
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();

        Local local = new Local();
        TransactionMQProducer producer = new TransactionMQProducer("interop_tx_pg_" + runId);
        producer.setNamesrvAddr(ns);
        producer.setInstanceName("interop-tx-producer-" + runId);
        producer.setTransactionListener(local);
        // The broker asks the connection of the producer's last heartbeat: beat every second so a
        // restarted broker or a new leader knows it before its first check (4.8.0 default: 30 s).
        producer.setHeartbeatBrokerInterval(1000);
        producer.setPollNameServerInterval(1000);
        producer.start();
        try {
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < PER_KIND; i++) {
                for (String kind : KINDS) {
                    String body = kind + "-" + i;
                    Message msg = new Message(topic, kind, body, body.getBytes(StandardCharsets.UTF_8));
                    msg.putUserProperty("run", runId);
                    TransactionSendResult r = producer.sendMessageInTransaction(msg, null);
                    Check.that(r.getSendStatus() == SendStatus.SEND_OK, body + ": half not stored: " + r);
                    LocalTransactionState want = kind.equals("commit") ? LocalTransactionState.COMMIT_MESSAGE
                        : kind.equals("rollback") ? LocalTransactionState.ROLLBACK_MESSAGE : LocalTransactionState.UNKNOW;
                    Check.that(r.getLocalTransactionState() == want, body + ": local state " + r.getLocalTransactionState());
                    // The client sets the message's transaction id to its UNIQ_KEY (the send result's
                    // transactionId is the broker's, which 4.8.0 never returns).
                    Check.that(r.getMsgId() != null && r.getMsgId().equals(msg.getTransactionId()),
                        body + ": transaction id " + msg.getTransactionId() + " vs msgId " + r.getMsgId());
                    if (kind.endsWith("commit")) {
                        expected.add(body);
                    }
                }
            }
            Check.ok("TransactionMQProducer: " + KINDS.length * PER_KIND + " half messages stored (SEND_OK),"
                + " local transactions answered COMMIT/ROLLBACK/UNKNOW");

            if (sync != null) {
                // The immediate commits are in before the leader goes away.
                waitArrivals(received, PER_KIND, "commit-", 30_000);
                Thread.sleep(500);
                Check.that(local.checks.isEmpty(), "checked before the kill: " + local.checks);
                touch(new File(sync, "prepared"));
                System.out.println("  ..   halves prepared; waiting for the leader kill");
                waitFile(new File(sync, "killed"), 120_000);
                System.out.println("  ..   leader killed and replaced; waiting for the new leader's check-backs");
            }

            long t0 = System.currentTimeMillis();
            waitArrivals(received, expected.size(), "", ARRIVAL_LIMIT_MS);
            long took = System.currentTimeMillis() - t0;
            // Two more check passes after the last arrival: nothing else may arrive, nothing twice.
            int unknownChecks = totalChecks(local, "unknown");
            Thread.sleep(4_000);
            Map<String, Integer> got = new TreeMap<>();
            received.forEach((k, v) -> got.put(k, v.get()));
            Map<String, Integer> want = new TreeMap<>();
            for (String b : expected) {
                want.put(b, 1);
            }
            Check.that(got.equals(want), "consumer received " + got + ", expected each of " + want.keySet() + " once");
            synchronized (problems) {
                Check.that(problems.isEmpty(), "messages arrived altered: " + problems);
            }
            Check.ok("DefaultMQPushConsumer received exactly the " + expected.size()
                + " committed messages once each (tags, keys, property, COMMIT type), the last "
                + took + " ms after " + (sync == null ? "the sends" : "the new leader appeared"));

            for (int i = 0; i < PER_KIND; i++) {
                for (String kind : KINDS) {
                    String body = kind + "-" + i;
                    int n = local.checksOf(body);
                    if (kind.equals("commit") || kind.equals("rollback")) {
                        Check.that(sync != null || n == 0, body + " was decided at once but checked " + n + " times");
                    } else {
                        Check.that(n >= 1, body + " (UNKNOW) was never checked back");
                    }
                }
            }
            Check.that(local.problems.isEmpty(), "check-backs: " + local.problems);
            Check.that(totalChecks(local, "unknown") > unknownChecks || sync != null,
                "UNKNOW halves are checked again on every pass");
            Check.ok("check-backs: every UNKNOW half asked (check-commit/check-rollback resolved, unknown-* asked "
                + totalChecks(local, "unknown") + " times so far), none decided at once was asked");
        } finally {
            producer.shutdown();
            consumer.shutdown();
        }
    }

    private static int totalChecks(Local local, String kind) {
        int n = 0;
        for (int i = 0; i < PER_KIND; i++) {
            n += local.checksOf(kind + "-" + i);
        }
        return n;
    }

    private static void waitArrivals(Map<String, AtomicInteger> received, int n, String prefix, long limitMs)
        throws InterruptedException {
        long deadline = System.currentTimeMillis() + limitMs;
        while (true) {
            long have = received.keySet().stream().filter(k -> k.startsWith(prefix)).count();
            if (have >= n) {
                return;
            }
            Check.that(System.currentTimeMillis() < deadline,
                "after " + limitMs + " ms the consumer has " + have + " of " + n + " messages '" + prefix + "*': "
                    + received.keySet());
            Thread.sleep(100);
        }
    }

    private static void touch(File f) throws Exception {
        File tmp = new File(f.getPath() + ".tmp");
        Check.that(tmp.createNewFile() || tmp.exists(), "cannot create " + tmp);
        Check.that(tmp.renameTo(f), "cannot rename " + tmp + " to " + f);
    }

    private static void waitFile(File f, long limitMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + limitMs;
        while (!f.exists()) {
            Check.that(System.currentTimeMillis() < deadline, "timed out waiting for " + f);
            Thread.sleep(100);
        }
    }
}
