/*
 * The message traffic of the Java interop suite: DefaultMQProducer 4.8.0 sends in every mode
 * (sync, async with a callback, oneway, batch, to a chosen queue), each message with tags, keys and
 * a user property; DefaultMQPushConsumer 4.8.0 groups then receive them and every received message
 * is compared with what was sent, matched by the unique id in its body.
 */
package interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

final class Traffic {
    static final int PER_MODE = 10;
    static final String PROP = "interopProp";

    /** What a sent message must look like when it comes back. */
    static final class Sent {
        final String tags;
        final String keys;
        final String prop;

        Sent(String tags, String keys, String prop) {
            this.tags = tags;
            this.keys = keys;
            this.prop = prop;
        }
    }

    final String namesrv;
    final String topic;
    final String runId;
    /** body -> expectation, for every message whose send was accepted (oneway: every attempt). */
    final Map<String, Sent> sent = new ConcurrentHashMap<>();
    /** The first sync send's result and message, for the by-id and by-key queries. */
    SendResult firstSync;
    Message firstSyncMessage;

    Traffic(String namesrv, String topic, String runId) {
        this.namesrv = namesrv;
        this.topic = topic;
        this.runId = runId;
    }

    Message message(String mode, int i) {
        String body = "interop-" + runId + "-" + mode + "-" + i;
        String tags = i % 2 == 0 ? "TagA" : "TagB";
        String keys = "key-" + mode + "-" + i + " order-" + runId + "-" + i;
        Message m = new Message(topic, tags, keys, body.getBytes(StandardCharsets.UTF_8));
        m.putUserProperty(PROP, "v-" + i);
        sent.put(body, new Sent(tags, keys, "v-" + i));
        return m;
    }

    DefaultMQProducer startProducer() throws Exception {
        DefaultMQProducer p = new DefaultMQProducer("interop_pg_" + runId);
        p.setNamesrvAddr(namesrv);
        p.setInstanceName("interop-producer-" + runId);
        p.setSendMsgTimeout(10_000);
        p.start();
        return p;
    }

    /** Sends `n` messages one by one with sync sends (mode `mode`). */
    void produceSync(String mode, int n) throws Exception {
        DefaultMQProducer p = startProducer();
        try {
            for (int i = 0; i < n; i++) {
                SendResult r = p.send(message(mode, i));
                Check.that(r.getSendStatus() == SendStatus.SEND_OK, mode + " send status " + r);
            }
        } finally {
            p.shutdown();
        }
    }

    /** Sends PER_MODE messages in every send mode and checks each send's result. */
    void produce() throws Exception {
        DefaultMQProducer p = startProducer();
        try {
            for (int i = 0; i < PER_MODE; i++) {
                Message m = message("sync", i);
                SendResult r = p.send(m);
                if (i == 0) {
                    firstSync = r;
                    firstSyncMessage = m;
                }
                Check.that(r.getSendStatus() == SendStatus.SEND_OK, "sync send status " + r);
                Check.that(r.getMsgId() != null && r.getOffsetMsgId() != null, "sync send ids " + r);
                Check.that(r.getQueueOffset() >= 0, "sync send queue offset " + r);
            }
            Check.ok("producer sync send x" + PER_MODE);

            CountDownLatch done = new CountDownLatch(PER_MODE);
            List<String> asyncErrors = new ArrayList<>();
            for (int i = 0; i < PER_MODE; i++) {
                p.send(message("async", i), new SendCallback() {
                    @Override
                    public void onSuccess(SendResult r) {
                        if (r.getSendStatus() != SendStatus.SEND_OK) {
                            synchronized (asyncErrors) {
                                asyncErrors.add("status " + r);
                            }
                        }
                        done.countDown();
                    }

                    @Override
                    public void onException(Throwable e) {
                        synchronized (asyncErrors) {
                            asyncErrors.add(e.toString());
                        }
                        done.countDown();
                    }
                });
            }
            Check.that(done.await(30, TimeUnit.SECONDS), "async send callbacks did not all arrive");
            Check.that(asyncErrors.isEmpty(), "async send errors: " + asyncErrors);
            Check.ok("producer async send x" + PER_MODE);

            for (int i = 0; i < PER_MODE; i++) {
                p.sendOneway(message("oneway", i));
            }
            Check.ok("producer oneway send x" + PER_MODE);

            List<Message> batch = new ArrayList<>();
            for (int i = 0; i < PER_MODE; i++) {
                batch.add(message("batch", i));
            }
            SendResult br = p.send(batch);
            Check.that(br.getSendStatus() == SendStatus.SEND_OK, "batch send status " + br);
            Check.that(br.getMsgId().split(",").length == PER_MODE, "batch send msgIds " + br.getMsgId());
            Check.ok("producer batch send (" + PER_MODE + " messages)");

            for (int i = 0; i < PER_MODE; i++) {
                SendResult r = p.send(message("queue3", i), (mqs, msg, arg) -> mqs.get((Integer) arg), 3);
                Check.that(r.getSendStatus() == SendStatus.SEND_OK, "selector send status " + r);
                Check.that(r.getMessageQueue().getQueueId() == 3, "selector send went to " + r.getMessageQueue());
            }
            Check.ok("producer send to a selected queue x" + PER_MODE);
        } finally {
            p.shutdown();
        }
    }

    /**
     * Starts a push consumer for `subExpression`, waits until it has every sent message whose tag
     * is accepted, checks each one, and returns the running consumer (the caller shuts it down).
     */
    DefaultMQPushConsumer consume(String group, String subExpression, int timeoutSeconds) throws Exception {
        TreeSet<String> accepted = new TreeSet<>(Arrays.asList(subExpression.split("\\s*\\|\\|\\s*")));
        Map<String, MessageExt> got = new ConcurrentHashMap<>();
        AtomicInteger deliveries = new AtomicInteger();
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(group);
        c.setNamesrvAddr(namesrv);
        c.setInstanceName("interop-" + group);
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.setPersistConsumerOffsetInterval(1000);
        c.subscribe(topic, subExpression);
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                deliveries.incrementAndGet();
                got.putIfAbsent(new String(m.getBody(), StandardCharsets.UTF_8), m);
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();

        TreeSet<String> want = new TreeSet<>();
        sent.forEach((body, s) -> {
            if (accepted.contains("*") || accepted.contains(s.tags)) {
                want.add(body);
            }
        });
        long deadline = System.currentTimeMillis() + timeoutSeconds * 1000L;
        while (!got.keySet().containsAll(want) && System.currentTimeMillis() < deadline) {
            Thread.sleep(200);
        }
        TreeSet<String> missing = new TreeSet<>(want);
        missing.removeAll(got.keySet());
        if (!missing.isEmpty()) {
            throw new AssertionError(group + " (" + subExpression + ") did not receive " + missing.size()
                + " of " + want.size() + " messages within " + timeoutSeconds + " s, e.g. " + missing.first());
        }
        for (Map.Entry<String, MessageExt> e : got.entrySet()) {
            Sent s = sent.get(e.getKey());
            MessageExt m = e.getValue();
            Check.that(s != null, group + " received a message nobody sent: " + e.getKey());
            Check.that(accepted.contains("*") || accepted.contains(m.getTags()),
                group + " (" + subExpression + ") received tag " + m.getTags());
            Check.that(topic.equals(m.getTopic()), "topic of " + e.getKey() + ": " + m.getTopic());
            Check.that(s.tags.equals(m.getTags()), "tags of " + e.getKey() + ": " + m.getTags());
            Check.that(s.keys.equals(m.getKeys()), "keys of " + e.getKey() + ": " + m.getKeys());
            Check.that(s.prop.equals(m.getUserProperty(PROP)),
                "user property of " + e.getKey() + ": " + m.getUserProperty(PROP));
            Check.that(m.getMsgId() != null && m.getQueueOffset() >= 0 && m.getStoreTimestamp() > 0,
                "store fields of " + e.getKey() + ": " + m);
        }
        Check.ok("push consumer " + group + " (" + subExpression + ") received all " + want.size()
            + " messages with the sent body, tags, keys and properties (" + deliveries.get() + " deliveries)");
        return c;
    }
}
