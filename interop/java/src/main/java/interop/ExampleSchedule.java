/*
 * The schedule example of RocketMQ 4.8.0 (docs/en/Example_Delay.md: ScheduledMessageProducer /
 * ScheduledMessageConsumer; the example module has no package for it): 100 messages sent with
 * delay level 3 (10 s with 4.8.0's default levels) reach a push consumer about that long after
 * they were sent. Checked: each arrives once, its stored time is at least the level's delay after
 * its born time (not early), and it reaches the consumer within a few seconds of being due.
 */
package interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

final class ExampleSchedule {
    static final int COUNT = 100;
    static final int LEVEL = 3;
    /** Due -> arrival allowance: 100 sends, a pull round trip and a loaded CI machine. */
    static final long LATE_MS = 3000;

    private ExampleSchedule() {
    }

    static void run(ExampleKit.Env env) throws Exception {
        long delay = Schedule.delayOf(LEVEL);
        ExampleKit.Inbox inbox = new ExampleKit.Inbox();
        DefaultMQPushConsumer consumer = ExampleKit.pushConsumer(env, "cg", "c");
        consumer.subscribe(env.topic, "*");
        consumer.registerMessageListener(inbox);
        consumer.start();
        List<String> bodies = new ArrayList<>();
        try {
            DefaultMQProducer producer = ExampleKit.producer(env, "pg");
            try {
                for (int i = 0; i < COUNT; i++) {
                    String body = "Hello scheduled message " + i;
                    Message m = new Message(env.topic, body.getBytes(StandardCharsets.UTF_8));
                    m.setDelayTimeLevel(LEVEL);
                    ExampleKit.send(env, producer, () -> producer.send(m), "send " + i);
                    bodies.add(body);
                }
            } finally {
                producer.shutdown();
            }
            ExampleKit.receive(env, inbox, COUNT, (int) (delay / 1000) + 60);
            ExampleKit.exactlyOnce(env, "the consumer", inbox, bodies);
            long minStored = Long.MAX_VALUE;
            long maxLate = 0;
            synchronized (inbox) {
                for (int i = 0; i < inbox.msgs.size(); i++) {
                    MessageExt m = inbox.msgs.get(i);
                    long stored = m.getStoreTimestamp() - m.getBornTimestamp();
                    long late = inbox.arrivedAt.get(i) - (m.getBornTimestamp() + delay);
                    Check.that(stored >= delay, env.name + ": " + ExampleKit.body(m) + " stored " + stored
                        + " ms after born, level " + LEVEL + " is " + delay + " ms");
                    Check.that(late <= LATE_MS, env.name + ": " + ExampleKit.body(m) + " arrived " + late
                        + " ms after it was due");
                    // Delivered as 4.8.0 delivers: DELAY removed, the real topic remembered.
                    Check.that(m.getProperty("DELAY") == null, env.name + ": DELAY " + m.getProperty("DELAY"));
                    Check.that(env.topic.equals(m.getProperty("REAL_TOPIC")),
                        env.name + ": REAL_TOPIC " + m.getProperty("REAL_TOPIC"));
                    minStored = Math.min(minStored, stored);
                    maxLate = Math.max(maxLate, late);
                }
            }
            env.log(COUNT + " messages at level " + LEVEL + " (" + delay + " ms): stored >= " + minStored
                + " ms after born, arrived <= " + maxLate + " ms after due");
        } finally {
            consumer.shutdown();
        }
    }
}
