/*
 * rocketmq-example 4.8.0, package batch: SimpleBatchProducer sends three messages (keys
 * OrderID001..003) in one send; SplitBatchProducer cuts a long list into batches of at most
 * 1,000,000 bytes (topic + body + properties + 20 per message) and sends each. Here the long list
 * has 20,000 messages. Checked: every batch is SEND_OK with one message id per message; a push
 * consumer receives every message once with its key, tag and body; each batch sits in one queue at
 * consecutive queue offsets from the one its send result names, in the order it was sent.
 */
package interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

final class ExampleBatch {
    static final int LARGE = 20_000;
    static final int SIZE_LIMIT = 1000 * 1000;

    /** Where a message must be found: queue and queue offset, plus what it carries. */
    static final class Placed {
        final int queueId;
        final long queueOffset;
        final String keys;

        Placed(int queueId, long queueOffset, String keys) {
            this.queueId = queueId;
            this.queueOffset = queueOffset;
            this.keys = keys;
        }
    }

    private ExampleBatch() {
    }

    /** Splits a list into pieces under SIZE_LIMIT, sized as the 4.8.0 example sizes them. */
    static final class Splitter implements Iterator<List<Message>> {
        private final List<Message> messages;
        private int next;

        Splitter(List<Message> messages) {
            this.messages = messages;
        }

        @Override
        public boolean hasNext() {
            return next < messages.size();
        }

        @Override
        public List<Message> next() {
            int end = next;
            int total = 0;
            while (end < messages.size()) {
                int size = sizeOf(messages.get(end));
                if (total + size > SIZE_LIMIT && end > next) {
                    break;
                }
                total += size;
                end++;
            }
            List<Message> piece = messages.subList(next, end);
            next = end;
            return piece;
        }

        private static int sizeOf(Message m) {
            int size = m.getTopic().length() + m.getBody().length + 20;
            for (Map.Entry<String, String> e : m.getProperties().entrySet()) {
                size += e.getKey().length() + e.getValue().length();
            }
            return size;
        }
    }

    /** Sends one batch and records where each of its messages must be. */
    static void sendBatch(ExampleKit.Env env, DefaultMQProducer p, List<Message> batch,
        Map<String, Placed> where) throws Exception {
        SendResult r = ExampleKit.send(env, p, () -> p.send(batch), "batch of " + batch.size());
        Check.that(r.getMsgId().split(",").length == batch.size(),
            env.name + ": " + batch.size() + " messages, msgId " + r.getMsgId());
        for (int i = 0; i < batch.size(); i++) {
            Message m = batch.get(i);
            where.put(new String(m.getBody(), StandardCharsets.UTF_8),
                new Placed(r.getMessageQueue().getQueueId(), r.getQueueOffset() + i, m.getKeys()));
        }
    }

    static void run(ExampleKit.Env env) throws Exception {
        Map<String, Placed> where = new HashMap<>();
        int batches = 0;
        DefaultMQProducer producer = ExampleKit.producer(env, "pg");
        try {
            List<Message> simple = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                simple.add(new Message(env.topic, "Tag", String.format("OrderID%03d", i + 1),
                    ("Hello world " + i).getBytes(StandardCharsets.UTF_8)));
            }
            sendBatch(env, producer, simple, where);
            List<Message> large = new ArrayList<>(LARGE);
            for (int i = 0; i < LARGE; i++) {
                large.add(new Message(env.topic, "Tag", "OrderID" + i,
                    ("Hello world split " + i).getBytes(StandardCharsets.UTF_8)));
            }
            Splitter splitter = new Splitter(large);
            while (splitter.hasNext()) {
                sendBatch(env, producer, splitter.next(), where);
                batches++;
            }
        } finally {
            producer.shutdown();
        }
        Check.that(batches > 1, env.name + ": the split list went out in " + batches + " batch(es)");
        env.log("1 batch of 3 and " + LARGE + " messages split into " + batches + " batches, all SEND_OK");

        ExampleKit.Inbox inbox = new ExampleKit.Inbox();
        DefaultMQPushConsumer consumer = ExampleKit.pushConsumer(env, "cg", "c");
        consumer.subscribe(env.topic, "*");
        consumer.setConsumeMessageBatchMaxSize(32);
        consumer.registerMessageListener(inbox);
        consumer.start();
        try {
            List<MessageExt> got = ExampleKit.receive(env, inbox, where.size(), 90);
            ExampleKit.exactlyOnce(env, "the consumer", inbox, where.keySet());
            for (MessageExt m : got) {
                Placed p = where.get(ExampleKit.body(m));
                Check.that(m.getQueueId() == p.queueId && m.getQueueOffset() == p.queueOffset,
                    env.name + ": " + ExampleKit.body(m) + " at queue " + m.getQueueId() + " offset "
                        + m.getQueueOffset() + ", its batch put it at " + p.queueId + "/" + p.queueOffset);
                Check.that(p.keys.equals(m.getKeys()) && "Tag".equals(m.getTags()),
                    env.name + ": " + ExampleKit.body(m) + " keys " + m.getKeys() + " tags " + m.getTags());
            }
        } finally {
            consumer.shutdown();
        }
        env.log("the consumer got all " + where.size() + " once, each batch contiguous in its queue, in order");
    }
}
