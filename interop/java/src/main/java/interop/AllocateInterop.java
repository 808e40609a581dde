/*
 * Part of the trace suite (see interop/README.md): a 4.8.0 Java push consumer and our push
 * consumer (rmq-example consume --allocate consistent-hash) in one group, both with consistent-hash
 * allocation, share an 8-queue topic exactly as 4.8.0's AllocateMessageQueueConsistentHash divides
 * it: the Java consumer owns the Java share, ours receives messages from the Rust share only, and
 * every message is consumed once.
 *
 * Usage: java interop.AllocateInterop <namesrvAddr> <clusterName> <rmq-example>
 */
package interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueConsistentHash;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;

public final class AllocateInterop {
    private AllocateInterop() {
    }

    public static void main(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: AllocateInterop <namesrvAddr> <clusterName> <rmq-example>");
            System.exit(2);
        }
        int status = 0;
        try {
            run(args[0], args[1], args[2]);
            System.out.println("allocate interop: all checks passed");
        } catch (Throwable t) {
            System.out.println("allocate interop: FAILED");
            t.printStackTrace(System.out);
            status = 1;
        } finally {
            ReplyInterop.Child.killAll();
        }
        System.exit(status);
    }

    static Set<Integer> ids(Iterable<MessageQueue> mqs) {
        Set<Integer> out = new TreeSet<>();
        for (MessageQueue mq : mqs) {
            out.add(mq.getQueueId());
        }
        return out;
    }

    static void run(String ns, String cluster, String example) throws Exception {
        String runId = Long.toString(System.currentTimeMillis(), 36);
        String topic = "InteropHash_" + runId;
        String group = "interop_cg_hash_" + runId;
        MqAdmin.ok("updateTopic", "-n", ns, "-c", cluster, "-t", topic, "-r", "8", "-w", "8");
        MqAdmin.waitFor("mqadmin topicRoute", "\"writeQueueNums\":8", 30, "topicRoute", "-n", ns, "-t", topic);

        Set<String> javaGot = ConcurrentHashMap.newKeySet();
        DefaultMQPushConsumer java = new DefaultMQPushConsumer(group);
        java.setNamesrvAddr(ns);
        java.setInstanceName("hash-java-" + runId);
        java.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        java.setAllocateMessageQueueStrategy(new AllocateMessageQueueConsistentHash());
        java.subscribe(topic, "*");
        java.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                javaGot.add(m.getQueueId() + " " + new String(m.getBody(), StandardCharsets.UTF_8));
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        java.start();
        ReplyInterop.Child rust = new ReplyInterop.Child(example, "consume", "--allocate", "consistent-hash",
            "-n", ns, "-t", topic, "-g", group, "--seconds", "120");
        DefaultMQProducer producer = null;
        try {
            String ready = rust.awaitLine("READY ", 60);
            String rustCid = ready.substring("READY ".length()).trim();
            String javaCid = java.getDefaultMQPushConsumerImpl().getmQClientFactory().getClientId();
            List<MessageQueue> mqs = new ArrayList<>();
            for (int q = 0; q < 8; q++) {
                mqs.add(new MessageQueue(topic, "interop-broker-a", q));
            }
            List<String> cids = new ArrayList<>(Arrays.asList(javaCid, rustCid));
            Collections.sort(cids);
            AllocateMessageQueueConsistentHash hash = new AllocateMessageQueueConsistentHash();
            Set<Integer> javaShare = ids(hash.allocate(group, javaCid, mqs, cids));
            Set<Integer> rustShare = ids(hash.allocate(group, rustCid, mqs, cids));
            // Wait until the Java consumer holds exactly its share (it rebalances when told
            // the group changed, and every 20 s).
            long deadline = System.currentTimeMillis() + 45_000;
            Set<Integer> javaOwns;
            do {
                List<MessageQueue> owned = new ArrayList<>();
                for (MessageQueue mq : java.getDefaultMQPushConsumerImpl().getRebalanceImpl()
                    .getProcessQueueTable().keySet()) {
                    if (mq.getTopic().equals(topic)) { // not the group's retry topic
                        owned.add(mq);
                    }
                }
                javaOwns = ids(owned);
                if (javaOwns.equals(javaShare)) {
                    break;
                }
                Thread.sleep(300);
            } while (System.currentTimeMillis() < deadline);
            Check.that(javaOwns.equals(javaShare), "Java consumer owns " + javaOwns + ", expected " + javaShare);
            Thread.sleep(2000); // let our consumer finish its own round too

            producer = new DefaultMQProducer("interop_pg_hash_" + runId);
            producer.setNamesrvAddr(ns);
            producer.setInstanceName("hash-p-" + runId);
            producer.start();
            for (int i = 0; i < 40; i++) {
                producer.send(new Message(topic, ("h-" + i).getBytes(StandardCharsets.UTF_8)),
                    mqs.get(i % 8));
            }
            deadline = System.currentTimeMillis() + 60_000;
            Set<String> rustGot = new TreeSet<>();
            while (System.currentTimeMillis() < deadline) {
                rustGot.clear();
                synchronized (rust.lines) {
                    for (String l : rust.lines) {
                        String[] f = l.split(" ");
                        if (f.length == 4 && f[0].equals(topic)) {
                            rustGot.add(f[1] + " " + f[3]);
                        }
                    }
                }
                if (rustGot.size() + javaGot.size() >= 40) {
                    break;
                }
                Thread.sleep(300);
            }
            Set<String> all = new TreeSet<>(rustGot);
            all.addAll(javaGot);
            Check.that(all.size() == 40 && rustGot.size() + javaGot.size() == 40,
                "expected 40 messages once each; rust " + rustGot.size() + ", java " + javaGot.size());
            for (String r : rustGot) {
                Check.that(rustShare.contains(Integer.parseInt(r.split(" ")[0])),
                    "our consumer got " + r + " outside its share " + rustShare);
            }
            for (String j : javaGot) {
                Check.that(javaShare.contains(Integer.parseInt(j.split(" ")[0])),
                    "Java consumer got " + j + " outside its share " + javaShare);
            }
            Check.ok("consistent hash: Java " + javaCid + " owns " + javaShare + ", ours " + rustCid + " reads "
                + rustShare + " (4.8.0's AllocateMessageQueueConsistentHash split); 40 messages consumed once");
        } finally {
            if (producer != null) {
                producer.shutdown();
            }
            rust.stop();
            java.shutdown();
        }
    }
}
