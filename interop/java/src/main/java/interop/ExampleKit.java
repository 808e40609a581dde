/*
 * What the example programs (Examples*) share: the environment one example runs in (name server,
 * its own topic and run id, a log printed when the example ends), producer and consumer set-up,
 * and an inbox that records every delivery a push consumer saw.
 */
package interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyContext;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.protocol.ResponseCode;

final class ExampleKit {
    private ExampleKit() {
    }

    /** One example's name server, topic, unique suffix and log. */
    static final class Env {
        final String name;
        final String ns;
        final String topic;
        final String runId;
        private final StringBuilder log = new StringBuilder();
        /** SYSTEM_BUSY replies that were sent again (see `send`). */
        final AtomicInteger busy = new AtomicInteger();

        Env(String name, String ns, String topic, String runId) {
            this.name = name;
            this.ns = ns;
            this.topic = topic;
            this.runId = runId;
        }

        /** A group or instance name unique to this example and run. */
        String unique(String what) {
            return "example_" + name + "_" + what + "_" + runId;
        }

        synchronized void log(String line) {
            log.append("  ").append(name).append(": ").append(line).append('\n');
        }

        synchronized String logText() {
            return log.toString();
        }
    }

    static DefaultMQProducer producer(Env env, String group) throws Exception {
        DefaultMQProducer p = new DefaultMQProducer(env.unique(group));
        p.setNamesrvAddr(env.ns);
        p.setInstanceName(env.unique(group));
        p.setSendMsgTimeout(10_000);
        p.start();
        return p;
    }

    /**
     * A synchronous send that must end SEND_OK. A broker under flow control answers SYSTEM_BUSY
     * (code 2, "[TIMEOUT_CLEAN_QUEUE]broker busy") and the 4.8.0 client does not retry that
     * code; the 4.8.0 examples print the exception, pause and go on (losing the message). Here
     * the same message is sent again after a pause, and the example reports how often.
     */
    static SendResult send(Env env, DefaultMQProducer p, SendAction action, String what) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                SendResult r = action.send();
                Check.that(r.getSendStatus() == SendStatus.SEND_OK, env.name + ": " + what + ": " + r);
                return r;
            } catch (MQBrokerException e) {
                if (e.getResponseCode() != ResponseCode.SYSTEM_BUSY || attempt >= 20) {
                    throw e;
                }
                env.busy.incrementAndGet();
                Thread.sleep(200);
            }
        }
    }

    /** One send call (plain, to a selected queue, or a batch). */
    interface SendAction {
        SendResult send() throws Exception;
    }

    /** A push consumer that starts from the first offset, not started yet. */
    static DefaultMQPushConsumer pushConsumer(Env env, String group, String instance) throws Exception {
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(env.unique(group));
        c.setNamesrvAddr(env.ns);
        c.setInstanceName(env.unique(instance));
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        return c;
    }

    static String body(MessageExt m) {
        return new String(m.getBody(), StandardCharsets.UTF_8);
    }

    /** Every delivery a concurrent push consumer saw, with when it arrived. */
    static final class Inbox implements MessageListenerConcurrently {
        final List<MessageExt> msgs = new ArrayList<>();
        final List<Long> arrivedAt = new ArrayList<>();

        @Override
        public synchronized ConsumeConcurrentlyStatus consumeMessage(List<MessageExt> batch,
            ConsumeConcurrentlyContext ctx) {
            long now = System.currentTimeMillis();
            for (MessageExt m : batch) {
                msgs.add(m);
                arrivedAt.add(now);
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        }

        synchronized int size() {
            return msgs.size();
        }

        synchronized List<MessageExt> snapshot() {
            return new ArrayList<>(msgs);
        }

        /** body -> how many times it arrived. */
        synchronized Map<String, Integer> counts() {
            Map<String, Integer> out = new TreeMap<>();
            for (MessageExt m : msgs) {
                out.merge(body(m), 1, Integer::sum);
            }
            return out;
        }
    }

    /** Waits until `inbox` holds `n` deliveries, then a little longer so extras would show. */
    static List<MessageExt> receive(Env env, Inbox inbox, int n, int seconds) throws InterruptedException {
        Schedule.await(() -> env.name + ": received " + inbox.size() + " of " + n, seconds, () -> inbox.size() >= n);
        Thread.sleep(1000);
        return inbox.snapshot();
    }

    /** Each body in `want` arrived exactly once, and nothing else. */
    static void exactlyOnce(Env env, String who, Inbox inbox, java.util.Collection<String> want) {
        Map<String, Integer> got = inbox.counts();
        List<String> problems = new ArrayList<>();
        for (String b : want) {
            int n = got.getOrDefault(b, 0);
            if (n != 1) {
                problems.add(b + " x" + n);
            }
        }
        for (String b : got.keySet()) {
            if (!want.contains(b)) {
                problems.add("unexpected " + b);
            }
        }
        Check.that(problems.isEmpty(), env.name + ": " + who + " got " + got.size() + " distinct of "
            + want.size() + "; " + problems.subList(0, Math.min(10, problems.size())));
    }
}
