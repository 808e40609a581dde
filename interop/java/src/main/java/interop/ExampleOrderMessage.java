/*
 * rocketmq-example 4.8.0, package ordermessage: a producer sends 100 messages (tags TagA..TagE in
 * turn, key KEY<i>) with a MessageQueueSelector that puts order id i % 10 on queue id % size; an
 * orderly push consumer subscribed to "TagA || TagC || TagD" answers SUCCESS, ROLLBACK, COMMIT or
 * SUSPEND_CURRENT_QUEUE_A_MOMENT by a call counter, as the example does (with auto-commit on,
 * ROLLBACK and COMMIT count as SUCCESS; a suspended message comes back after the suspend time,
 * here 300 ms instead of 3 s). Checked: each send lands on the selected queue; a queue is never
 * consumed by two threads at once; per queue the accepted messages are exactly its matching ones
 * in queue-offset order, each order id in send order, and every suspended message returns.
 */
package interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

final class ExampleOrderMessage {
    static final int COUNT = 100;
    static final int ORDERS = 10;

    private ExampleOrderMessage() {
    }

    static void run(ExampleKit.Env env) throws Exception {
        String[] tags = {"TagA", "TagB", "TagC", "TagD", "TagE"};
        // queue id -> matching bodies in queue-offset order; body -> order id
        Map<Integer, TreeMap<Long, String>> expected = new TreeMap<>();
        Map<String, Integer> orderOf = new HashMap<>();
        DefaultMQProducer producer = ExampleKit.producer(env, "pg");
        try {
            for (int i = 0; i < COUNT; i++) {
                int orderId = i % ORDERS;
                String tag = tags[i % tags.length];
                String body = "Hello RocketMQ " + i;
                Message msg = new Message(env.topic, tag, "KEY" + i, body.getBytes(StandardCharsets.UTF_8));
                SendResult r = ExampleKit.send(env, producer,
                    () -> producer.send(msg, (mqs, m, arg) -> mqs.get((Integer) arg % mqs.size()), orderId), "send " + i);
                Check.that(r.getMessageQueue().getQueueId() == orderId % 4,
                    env.name + ": order " + orderId + " went to queue " + r.getMessageQueue().getQueueId());
                if (tag.equals("TagA") || tag.equals("TagC") || tag.equals("TagD")) {
                    expected.computeIfAbsent(r.getMessageQueue().getQueueId(), q -> new TreeMap<>())
                        .put(r.getQueueOffset(), body);
                    orderOf.put(body, orderId);
                }
            }
        } finally {
            producer.shutdown();
        }

        Map<Integer, List<String>> accepted = new ConcurrentHashMap<>();
        Map<Integer, AtomicInteger> inFlight = new ConcurrentHashMap<>();
        List<String> suspended = new ArrayList<>();
        List<String> overlaps = new ArrayList<>();
        AtomicLong calls = new AtomicLong();
        AtomicInteger acceptedCount = new AtomicInteger();
        DefaultMQPushConsumer consumer = ExampleKit.pushConsumer(env, "cg", "c");
        consumer.subscribe(env.topic, "TagA || TagC || TagD");
        consumer.registerMessageListener((MessageListenerOrderly) (msgs, ctx) -> {
            ctx.setAutoCommit(true);
            int q = ctx.getMessageQueue().getQueueId();
            AtomicInteger busy = inFlight.computeIfAbsent(q, k -> new AtomicInteger());
            if (busy.incrementAndGet() > 1) {
                synchronized (overlaps) {
                    overlaps.add("queue " + q);
                }
            }
            try {
                long n = calls.incrementAndGet();
                ConsumeOrderlyStatus status = ConsumeOrderlyStatus.SUCCESS;
                if (n % 2 == 0) {
                    status = ConsumeOrderlyStatus.SUCCESS;
                } else if (n % 3 == 0) {
                    status = ConsumeOrderlyStatus.ROLLBACK;
                } else if (n % 4 == 0) {
                    status = ConsumeOrderlyStatus.COMMIT;
                } else if (n % 5 == 0) {
                    ctx.setSuspendCurrentQueueTimeMillis(300);
                    status = ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
                }
                List<String> bodies = new ArrayList<>();
                for (MessageExt m : msgs) {
                    bodies.add(ExampleKit.body(m));
                }
                if (status == ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT) {
                    synchronized (suspended) {
                        suspended.addAll(bodies);
                    }
                } else {
                    accepted.computeIfAbsent(q, k -> java.util.Collections.synchronizedList(new ArrayList<>()))
                        .addAll(bodies);
                    acceptedCount.addAndGet(bodies.size());
                }
                return status;
            } finally {
                busy.decrementAndGet();
            }
        });
        consumer.start();
        int want = orderOf.size();
        try {
            Schedule.await(() -> env.name + ": accepted " + acceptedCount.get() + " of " + want, 60,
                () -> acceptedCount.get() >= want);
            Thread.sleep(1000);
        } finally {
            consumer.shutdown();
        }
        Check.that(overlaps.isEmpty(), env.name + ": two threads consumed one queue at once: " + overlaps);
        for (Map.Entry<Integer, TreeMap<Long, String>> e : expected.entrySet()) {
            List<String> got = accepted.getOrDefault(e.getKey(), new ArrayList<>());
            List<String> inOrder = new ArrayList<>(e.getValue().values());
            Check.that(got.equals(inOrder), env.name + ": queue " + e.getKey() + " accepted " + got
                + ", its matching messages in order are " + inOrder);
        }
        Check.that(accepted.keySet().equals(expected.keySet()), env.name + ": accepted from queues "
            + accepted.keySet() + ", matching messages are in " + expected.keySet());
        for (String s : suspended) {
            boolean back = accepted.values().stream().anyMatch(l -> l.contains(s));
            Check.that(back, env.name + ": suspended " + s + " never came back");
        }
        Map<Integer, Integer> lastOfOrder = new HashMap<>();
        for (List<String> l : accepted.values()) {
            for (String b : l) {
                int i = Integer.parseInt(b.substring("Hello RocketMQ ".length()));
                Integer prev = lastOfOrder.put(orderOf.get(b), i);
                Check.that(prev == null || prev < i, env.name + ": order " + orderOf.get(b) + ": " + i
                    + " after " + prev);
            }
        }
        env.log(COUNT + " sends by order id; " + want + " matching accepted in queue order over "
            + expected.size() + " queues, " + suspended.size() + " suspended and redelivered, "
            + calls.get() + " listener calls");
    }
}
