/*
 * The Java suite's deeper checks: message queries through the real mqadmin (by offset msgId,
 * by key), an orderly push consumer (queue locks), a consumer group resuming from its committed
 * offsets, and a consumer asking for redelivery (CONSUMER_SEND_MSG_BACK -> %RETRY% topic, through
 * the broker's schedule service). Delay levels and the DLQ are checked in Schedule.
 */
package interop;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

final class Extras {
    private Extras() {
    }

    private static DefaultMQPushConsumer consumer(String ns, String group, String topic) throws Exception {
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(group);
        c.setNamesrvAddr(ns);
        c.setInstanceName("interop-" + group);
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.subscribe(topic, "*");
        return c;
    }

    /** Waits for `done`; on time-out fails with `what` (evaluated then, so it shows the final state). */
    private static void await(Supplier<String> what, int seconds, BooleanSupplier done)
        throws InterruptedException {
        long deadline = System.currentTimeMillis() + seconds * 1000L;
        while (!done.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError(what.get() + " (waited " + seconds + " s)");
            }
            Thread.sleep(200);
        }
    }

    /** queryMsgById with the offset msgId of a sync send, then queryMsgByKey with its first key. */
    static void queries(String ns, Traffic t) throws Exception {
        SendResult r = t.firstSync;
        Message m = t.firstSyncMessage;
        String byId = MqAdmin.ok("queryMsgById", "-n", ns, "-i", r.getOffsetMsgId());
        Check.contains(byId, t.topic, "queryMsgById");
        Check.contains(byId, "[" + m.getTags() + "]", "queryMsgById tags");
        Check.contains(byId, "[" + m.getKeys() + "]", "queryMsgById keys");
        Check.that(Pattern.compile("Queue Offset:\\s+" + r.getQueueOffset() + "\\b").matcher(byId).find(),
            "queryMsgById: queue offset " + r.getQueueOffset() + " not shown:\n" + byId);
        Matcher body = Pattern.compile("Message Body Path:\\s+(\\S+)").matcher(byId);
        if (body.find()) {
            byte[] bytes = Files.readAllBytes(Paths.get(body.group(1)));
            Check.that(java.util.Arrays.equals(bytes, m.getBody()), "queryMsgById: body file differs from the sent body");
            Files.deleteIfExists(Paths.get(body.group(1)));
        }
        Check.ok("mqadmin queryMsgById " + r.getOffsetMsgId() + " shows topic, tags, keys, offset and body");

        String key = m.getKeys().split(" ")[0];
        String qid = Integer.toString(r.getMessageQueue().getQueueId());
        String off = Long.toString(r.getQueueOffset());
        long deadline = System.currentTimeMillis() + 15_000;
        String byKey;
        boolean found;
        do {
            byKey = MqAdmin.ok("queryMsgByKey", "-n", ns, "-t", t.topic, "-k", key);
            found = false;
            for (String line : byKey.split("\n")) {
                String[] f = line.trim().split("\\s+");
                if (f.length == 3 && f[1].equals(qid) && f[2].equals(off)) {
                    found = true;
                }
            }
            if (!found) {
                Thread.sleep(300); // the index is built behind the commit log
            }
        } while (!found && System.currentTimeMillis() < deadline);
        Check.that(found, "queryMsgByKey " + key + ": no row for queue " + qid + " offset " + off + ":\n" + byKey);
        Check.ok("mqadmin queryMsgByKey " + key + " finds queue " + qid + " offset " + off);
    }

    /** A MessageListenerOrderly consumer gets every message, each queue in offset order. */
    static void orderly(String ns, Traffic t, String group) throws Exception {
        Map<Integer, List<Long>> offsets = new ConcurrentHashMap<>();
        List<String> queue3 = Collections.synchronizedList(new ArrayList<>());
        Set<String> got = ConcurrentHashMap.newKeySet();
        DefaultMQPushConsumer c = consumer(ns, group, t.topic);
        c.registerMessageListener((MessageListenerOrderly) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                String body = new String(m.getBody(), StandardCharsets.UTF_8);
                if (got.add(body)) {
                    offsets.computeIfAbsent(m.getQueueId(), q -> Collections.synchronizedList(new ArrayList<>()))
                        .add(m.getQueueOffset());
                    if (body.contains("-queue3-")) {
                        queue3.add(body);
                    }
                }
            }
            return ConsumeOrderlyStatus.SUCCESS;
        });
        c.start();
        try {
            await(() -> "orderly consumer " + group + " got " + got.size() + " of " + t.sent.size(), 60,
                () -> got.containsAll(t.sent.keySet()));
        } finally {
            c.shutdown();
        }
        offsets.forEach((q, list) -> {
            for (int i = 1; i < list.size(); i++) {
                Check.that(list.get(i) > list.get(i - 1), "orderly: queue " + q + " out of order: " + list);
            }
        });
        for (int i = 0; i < queue3.size(); i++) {
            Check.that(queue3.get(i).endsWith("-queue3-" + i), "orderly: queue 3 order " + queue3);
        }
        Check.ok("orderly push consumer " + group + " (queue locks) got all " + got.size()
            + " messages, every queue in offset order");
    }

    /** A group that consumed everything and stopped resumes at its committed offsets. */
    static void resume(String ns, String topic, String runId, String group) throws Exception {
        Traffic late = new Traffic(ns, topic, runId + "late");
        late.produceSync("late", 5);
        // Traffic.consume fails on any message outside `late.sent`, i.e. on any redelivery.
        late.consume(group, "*", 60).shutdown();
        Check.ok("restarted group " + group + " resumed at its committed offsets (only the 5 new messages)");
    }

    /** RECONSUME_LATER with delay level 1: the message comes back from %RETRY%group, reconsumeTimes 1. */
    static void retry(String ns, String cluster, String brokerAddr, String runId) throws Exception {
        String topic = "InteropRetry_" + runId;
        MqAdmin.createTopic(ns, cluster, brokerAddr, topic);
        Traffic t = new Traffic(ns, topic, runId + "retry");
        t.produceSync("retry", 3);
        Map<String, MessageExt> first = new ConcurrentHashMap<>();
        Map<String, MessageExt> again = new ConcurrentHashMap<>();
        String group = "interop_cg_retry_" + runId;
        DefaultMQPushConsumer c = consumer(ns, group, topic);
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            ConsumeConcurrentlyStatus status = ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            for (MessageExt m : msgs) {
                String body = new String(m.getBody(), StandardCharsets.UTF_8);
                if (m.getReconsumeTimes() == 0) {
                    first.putIfAbsent(body, m);
                    ctx.setDelayLevelWhenNextConsume(1);
                    status = ConsumeConcurrentlyStatus.RECONSUME_LATER;
                } else {
                    again.putIfAbsent(body, m);
                }
            }
            return status;
        });
        c.start();
        try {
            await(() -> "retry: " + again.size() + " of " + t.sent.size() + " messages came back after RECONSUME_LATER "
                + "(first deliveries: " + first.size() + ")", 60, () -> again.keySet().containsAll(t.sent.keySet()));
        } finally {
            c.shutdown();
        }
        for (Map.Entry<String, MessageExt> e : again.entrySet()) {
            MessageExt m = e.getValue();
            Traffic.Sent s = t.sent.get(e.getKey());
            Check.that(s != null, "retry: unknown message " + e.getKey());
            Check.that(m.getReconsumeTimes() == 1, "retry: reconsumeTimes " + m.getReconsumeTimes());
            Check.that(topic.equals(m.getTopic()), "retry: topic " + m.getTopic());
            Check.that(s.tags.equals(m.getTags()) && s.keys.equals(m.getKeys()), "retry: tags/keys " + m);
        }
        Check.ok("RECONSUME_LATER: all 3 messages redelivered via %RETRY%" + group + " with reconsumeTimes=1");
    }
}
