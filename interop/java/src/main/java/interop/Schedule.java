/*
 * The Java suite's delay-queue checks (issue 5, spec section 6), against the broker's
 * messageDelayLevel as run.sh configures it (passed in as -Dinterop.delayLevels):
 *
 *  - levels(): messages sent with setDelayTimeLevel(1..3) reach a push consumer no earlier than
 *    their level's delay after their born timestamp, and at most LATE_MS after it, each exactly once;
 *  - dlq(): a consumer with setMaxReconsumeTimes(2) that always answers RECONSUME_LATER sees every
 *    message with reconsumeTimes 0, 1, 2 (the retries on levels 3 and 4: 3 + reconsumeTimes), then
 *    the message lands in %DLQ%group (1 queue, perm 2 = write only: a pull is refused until
 *    `updateTopic -p 6` opens it; then DefaultMQPullConsumer reads it back) and nothing comes back.
 *
 * The restart-in-the-middle check lives in RestartDelay (run.sh restarts the broker for it).
 */
package interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.PullResult;
import org.apache.rocketmq.client.consumer.PullStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;

final class Schedule {
    /** How late (ms after born timestamp + level delay) a delayed message may reach the consumer. */
    static final long LATE_MS = 1000;

    private Schedule() {
    }

    /** The broker's messageDelayLevel ("1s 5s 10s ..."), level 1 first, in milliseconds. */
    static long[] delayLevels() {
        String text = System.getProperty("interop.delayLevels", "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h");
        List<Long> out = new ArrayList<>();
        for (String item : text.trim().split("\\s+")) {
            long unit;
            switch (item.charAt(item.length() - 1)) {
                case 's': unit = 1_000L; break;
                case 'm': unit = 60_000L; break;
                case 'h': unit = 3_600_000L; break;
                case 'd': unit = 86_400_000L; break;
                default: throw new IllegalArgumentException("bad delay level " + item);
            }
            out.add(Long.parseLong(item.substring(0, item.length() - 1)) * unit);
        }
        long[] levels = new long[out.size()];
        for (int i = 0; i < levels.length; i++) {
            levels[i] = out.get(i);
        }
        return levels;
    }

    static long delayOf(int level) {
        long[] levels = delayLevels();
        return levels[Math.min(level, levels.length) - 1];
    }

    /** One delivery as the listener saw it. */
    static final class Arrival {
        final long at;
        final MessageExt msg;

        Arrival(long at, MessageExt msg) {
            this.at = at;
            this.msg = msg;
        }
    }

    /** Collects every delivery per body (duplicates included). */
    static final class Arrivals implements MessageListenerConcurrently {
        final Map<String, List<Arrival>> byBody = new ConcurrentHashMap<>();

        @Override
        public ConsumeConcurrentlyStatus consumeMessage(List<MessageExt> msgs,
            org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyContext ctx) {
            long now = System.currentTimeMillis();
            for (MessageExt m : msgs) {
                byBody.computeIfAbsent(new String(m.getBody(), StandardCharsets.UTF_8),
                    b -> Collections.synchronizedList(new ArrayList<>())).add(new Arrival(now, m));
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        }

        int count(String body) {
            List<Arrival> l = byBody.get(body);
            return l == null ? 0 : l.size();
        }
    }

    static void await(Supplier<String> what, int seconds, BooleanSupplier done) throws InterruptedException {
        long deadline = System.currentTimeMillis() + seconds * 1000L;
        while (!done.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError(what.get() + " (waited " + seconds + " s)");
            }
            Thread.sleep(50);
        }
    }

    static DefaultMQPushConsumer pushConsumer(String ns, String group, String topic) throws Exception {
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(group);
        c.setNamesrvAddr(ns);
        c.setInstanceName("interop-" + group);
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.subscribe(topic, "*");
        return c;
    }

    static DefaultMQProducer producer(String ns, String group) throws Exception {
        DefaultMQProducer p = new DefaultMQProducer(group);
        p.setNamesrvAddr(ns);
        p.setInstanceName("interop-" + group);
        p.setSendMsgTimeout(10_000);
        p.start();
        return p;
    }

    static void sendOk(DefaultMQProducer p, Message m) throws Exception {
        SendResult r = p.send(m);
        Check.that(r.getSendStatus() == SendStatus.SEND_OK, "send status " + r);
    }

    /**
     * Sends one plain message and waits until `arrivals` saw it: afterwards the consumer has its
     * queues and a long poll parked on each, so delayed messages are measured, not the rebalance.
     */
    static void warmUp(DefaultMQProducer p, String topic, Arrivals arrivals, String body) throws Exception {
        sendOk(p, new Message(topic, "warm", body.getBytes(StandardCharsets.UTF_8)));
        await(() -> "warm-up message " + body + " never arrived", 60, () -> arrivals.count(body) > 0);
        Thread.sleep(300);
    }

    /** Level 1..3 messages arrive in [delay, delay + LATE_MS] after their born timestamp, once each. */
    static void levels(String ns, String cluster, String brokerAddr, String runId) throws Exception {
        String topic = "InteropLevels_" + runId;
        MqAdmin.createTopic(ns, cluster, brokerAddr, topic);
        Arrivals arrivals = new Arrivals();
        DefaultMQPushConsumer c = pushConsumer(ns, "interop_cg_levels_" + runId, topic);
        c.registerMessageListener(arrivals);
        c.start();
        DefaultMQProducer p = producer(ns, "interop_pg_levels_" + runId);
        Map<String, Integer> levelOf = new TreeMap<>();
        try {
            warmUp(p, topic, arrivals, "levels-warm-" + runId);
            for (int round = 0; round < 3; round++) {
                for (int level = 1; level <= 3; level++) {
                    String body = "levels-" + runId + "-L" + level + "-" + round;
                    Message m = new Message(topic, "L" + level, body.getBytes(StandardCharsets.UTF_8));
                    m.setDelayTimeLevel(level);
                    sendOk(p, m);
                    levelOf.put(body, level);
                }
                Thread.sleep(150);
            }
            long longest = delayOf(3);
            await(() -> "delayed messages: " + arrivals.byBody.size() + " of " + (levelOf.size() + 1) + " arrived",
                (int) (longest / 1000) + 30, () -> arrivals.byBody.keySet().containsAll(levelOf.keySet()));
            Thread.sleep(1500); // a second delivery of anything would show up by now
        } finally {
            p.shutdown();
            c.shutdown();
        }
        Map<Integer, long[]> minMax = new TreeMap<>();
        for (Map.Entry<String, Integer> e : levelOf.entrySet()) {
            List<Arrival> got = arrivals.byBody.get(e.getKey());
            Check.that(got.size() == 1, "delayed message " + e.getKey() + " delivered " + got.size() + " times");
            Arrival a = got.get(0);
            int level = e.getValue();
            long delay = delayOf(level);
            long waited = a.at - a.msg.getBornTimestamp();
            long late = waited - delay;
            Check.that(topic.equals(a.msg.getTopic()), "delayed message topic " + a.msg.getTopic());
            Check.that(a.msg.getStoreTimestamp() - a.msg.getBornTimestamp() >= delay,
                "level " + level + " message stored on " + topic + " after only "
                    + (a.msg.getStoreTimestamp() - a.msg.getBornTimestamp()) + " ms (delay " + delay + " ms)");
            Check.that(late >= 0, "level " + level + " message arrived " + (-late) + " ms early (" + waited + " ms)");
            Check.that(late <= LATE_MS, "level " + level + " message arrived " + late + " ms late (" + waited + " ms)");
            long[] mm = minMax.computeIfAbsent(level, l -> new long[] {Long.MAX_VALUE, Long.MIN_VALUE});
            mm[0] = Math.min(mm[0], late);
            mm[1] = Math.max(mm[1], late);
        }
        StringBuilder sb = new StringBuilder();
        minMax.forEach((level, mm) -> sb.append(String.format(" L%d=%ds:+%d..+%d ms", level, delayOf(level) / 1000, mm[0], mm[1])));
        Check.ok("setDelayTimeLevel 1-3: " + levelOf.size() + " messages, each once, not early, at most " + LATE_MS
            + " ms late; lateness per level:" + sb);
    }

    /** maxReconsumeTimes=2, always RECONSUME_LATER: reconsumeTimes 0, 1, 2, then %DLQ%group. */
    @SuppressWarnings("deprecation") // DefaultMQPullConsumer: the 4.8.0 way to read one queue by offset
    static void dlq(String ns, String cluster, String brokerName, String brokerAddr, String runId) throws Exception {
        String topic = "InteropDlq_" + runId;
        String group = "interop_cg_dlq_" + runId;
        String dlqTopic = "%DLQ%" + group;
        MqAdmin.createTopic(ns, cluster, brokerAddr, topic);
        Map<String, List<Arrival>> seen = new ConcurrentHashMap<>();
        DefaultMQPushConsumer c = pushConsumer(ns, group, topic);
        c.setMaxReconsumeTimes(2);
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            long now = System.currentTimeMillis();
            for (MessageExt m : msgs) {
                seen.computeIfAbsent(new String(m.getBody(), StandardCharsets.UTF_8),
                    b -> Collections.synchronizedList(new ArrayList<>())).add(new Arrival(now, m));
            }
            return ConsumeConcurrentlyStatus.RECONSUME_LATER; // default delay: level 3 + reconsumeTimes
        });
        c.start();
        List<String> bodies = new ArrayList<>();
        DefaultMQProducer p = producer(ns, "interop_pg_dlq_" + runId);
        try {
            for (int i = 0; i < 2; i++) {
                String body = "dlq-" + runId + "-" + i;
                sendOk(p, new Message(topic, "TagDlq", "dlqkey-" + runId + "-" + i, body.getBytes(StandardCharsets.UTF_8)));
                bodies.add(body);
            }
        } finally {
            p.shutdown();
        }
        try {
            long budget = delayOf(3) + delayOf(4) + 60_000;
            await(() -> "DLQ: deliveries so far " + summary(seen), (int) (budget / 1000),
                () -> bodies.stream().allMatch(b -> seen.containsKey(b) && seen.get(b).size() >= 3));
            // The third failure goes to the DLQ; wait for both records there.
            long deadline = System.currentTimeMillis() + 20_000;
            long inDlq;
            String status;
            do {
                status = MqAdmin.run("topicStatus", "-n", ns, "-t", dlqTopic).out;
                inDlq = maxOffsetSum(status, brokerName);
                if (inDlq >= bodies.size()) {
                    break;
                }
                Thread.sleep(300);
            } while (System.currentTimeMillis() < deadline);
            Check.that(inDlq == bodies.size(), "DLQ " + dlqTopic + " holds " + inDlq + " messages, expected "
                + bodies.size() + ":\n" + status);
            // Nothing may come back after the DLQ: a retry on level 5 would arrive within its delay.
            Thread.sleep(delayOf(5) + 1500);
        } finally {
            c.shutdown();
        }
        for (String b : bodies) {
            List<Arrival> got = seen.get(b);
            Check.that(got.size() == 3, "DLQ: " + b + " delivered " + got.size() + " times: " + summary(seen));
            for (int i = 0; i < 3; i++) {
                MessageExt m = got.get(i).msg;
                Check.that(m.getReconsumeTimes() == i, "DLQ: delivery " + i + " of " + b + " has reconsumeTimes "
                    + m.getReconsumeTimes());
                Check.that(topic.equals(m.getTopic()), "DLQ: retried message topic " + m.getTopic());
            }
            for (int i = 1; i < 3; i++) {
                long gap = got.get(i).at - got.get(i - 1).at;
                long delay = delayOf(3 + i - 1);
                Check.that(gap >= delay, "DLQ: retry " + i + " of " + b + " came after " + gap + " ms, level "
                    + (3 + i - 1) + " is " + delay + " ms");
                // The first retry is only pulled once the consumer has rebalanced onto the new
                // %RETRY% queue: the 4.8.0 client fetched its routes before the heartbeat that
                // created that topic, so it may wait for its next 20 s rebalance round. That is
                // client timing, not delay accuracy (measured above), so allow it.
                long slack = i == 1 ? 25_000 : 3 * LATE_MS;
                Check.that(gap <= delay + slack, "DLQ: retry " + i + " of " + b + " came after " + gap
                    + " ms, level " + (3 + i - 1) + " is " + delay + " ms");
            }
        }
        Check.ok("maxReconsumeTimes=2 + RECONSUME_LATER: each message seen with reconsumeTimes 0, 1, 2 (retries"
            + " after levels 3 and 4: " + gaps(seen) + "), then " + bodies.size() + " records in " + dlqTopic
            + ", no further delivery");

        // The DLQ as 4.8.0 creates it: 1 queue, perm 2 (write only), so pulls are refused.
        String route = MqAdmin.waitFor("topicRoute " + dlqTopic, brokerAddr, 30, "topicRoute", "-n", ns, "-t", dlqTopic);
        Check.contains(route, "\"perm\":2", "DLQ route perm");
        Check.contains(route, "\"readQueueNums\":1", "DLQ route queues");
        MessageQueue mq = new MessageQueue(dlqTopic, brokerName, 0);
        DefaultMQPullConsumer pc = new DefaultMQPullConsumer("interop_cg_dlqreader_" + runId);
        pc.setNamesrvAddr(ns);
        pc.setInstanceName("interop-dlqreader-" + runId);
        pc.start();
        try {
            boolean refused;
            try {
                PullResult r = pc.pull(mq, "*", 0, 32);
                refused = r.getPullStatus() != PullStatus.FOUND;
            } catch (Exception e) {
                refused = String.valueOf(e.getMessage()).contains("forbidden");
            }
            Check.that(refused, "DLQ with perm 2 (write only) served a pull");
            Check.ok(dlqTopic + " was created with 1 queue and perm 2; a pull is refused");

            String upd = MqAdmin.ok("updateTopic", "-n", ns, "-b", brokerAddr, "-t", dlqTopic, "-r", "1", "-w", "1", "-p", "6");
            Check.contains(upd, "success", "updateTopic -p 6");
            MqAdmin.waitFor("topicRoute " + dlqTopic + " perm 6", "\"perm\":6", 30, "topicRoute", "-n", ns, "-t", dlqTopic);
            List<MessageExt> dead = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 20_000;
            while (dead.size() < bodies.size() && System.currentTimeMillis() < deadline) {
                try {
                    PullResult r = pc.pull(mq, "*", dead.size(), 32);
                    if (r.getPullStatus() == PullStatus.FOUND) {
                        dead.addAll(r.getMsgFoundList());
                        continue;
                    }
                } catch (Exception e) {
                    // the broker may not have picked up the new perm yet
                }
                Thread.sleep(300);
            }
            Check.that(dead.size() == bodies.size(), "DLQ pull got " + dead.size() + " messages");
            for (MessageExt m : dead) {
                String body = new String(m.getBody(), StandardCharsets.UTF_8);
                Check.that(bodies.contains(body), "DLQ holds an unknown message " + body);
                Check.that(dlqTopic.equals(m.getTopic()), "DLQ record topic " + m.getTopic());
                Check.that(m.getReconsumeTimes() == 3, "DLQ record reconsumeTimes " + m.getReconsumeTimes());
                Check.that(topic.equals(m.getProperty("RETRY_TOPIC")), "DLQ record RETRY_TOPIC " + m.getProperty("RETRY_TOPIC"));
                Check.that("TagDlq".equals(m.getTags()), "DLQ record tags " + m.getTags());
                Check.that(m.getProperty("ORIGIN_MESSAGE_ID") != null, "DLQ record without ORIGIN_MESSAGE_ID");
            }
        } finally {
            pc.shutdown();
        }
        Check.ok("after updateTopic -p 6, DefaultMQPullConsumer reads both dead letters from " + dlqTopic
            + " (reconsumeTimes 3, RETRY_TOPIC " + topic + ", tags and ORIGIN_MESSAGE_ID kept)");
    }

    private static long maxOffsetSum(String topicStatus, String brokerName) {
        long sum = 0;
        for (String line : topicStatus.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 4 && f[0].equals(brokerName)) {
                try {
                    sum += Long.parseLong(f[3]);
                } catch (NumberFormatException e) {
                    // header line
                }
            }
        }
        return sum;
    }

    static long maxOffsetSumOf(String ns, String topic, String brokerName) {
        return maxOffsetSum(MqAdmin.run("topicStatus", "-n", ns, "-t", topic).out, brokerName);
    }

    private static String summary(Map<String, List<Arrival>> seen) {
        StringBuilder sb = new StringBuilder();
        seen.forEach((b, l) -> {
            sb.append(b).append(": reconsumeTimes [");
            synchronized (l) {
                for (Arrival a : l) {
                    sb.append(' ').append(a.msg.getReconsumeTimes());
                }
            }
            sb.append(" ] ");
        });
        return sb.toString();
    }

    private static String gaps(Map<String, List<Arrival>> seen) {
        StringBuilder sb = new StringBuilder();
        seen.forEach((b, l) -> {
            synchronized (l) {
                for (int i = 1; i < l.size(); i++) {
                    sb.append(i == 1 ? "" : "/").append(l.get(i).at - l.get(i - 1).at);
                }
            }
            sb.append(" ms; ");
        });
        return sb.toString().replaceAll("; $", "");
    }
}
