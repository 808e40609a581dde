/*
 * rocketmq-example 4.8.0, package quickstart: a producer sends 1000 "Hello RocketMQ <i>" messages
 * tagged TagA, one synchronous send each; a push consumer subscribed to "*" from the first offset
 * receives them. Checked: every send is SEND_OK and every message arrives exactly once with its
 * tag and body.
 */
package interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

final class ExampleQuickstart {
    static final int COUNT = 1000;

    private ExampleQuickstart() {
    }

    static void run(ExampleKit.Env env) throws Exception {
        DefaultMQProducer producer = ExampleKit.producer(env, "pg");
        List<String> bodies = new ArrayList<>();
        try {
            for (int i = 0; i < COUNT; i++) {
                String body = "Hello RocketMQ " + i;
                Message msg = new Message(env.topic, "TagA", body.getBytes(StandardCharsets.UTF_8));
                ExampleKit.send(env, producer, () -> producer.send(msg), "send " + i);
                bodies.add(body);
            }
        } finally {
            producer.shutdown();
        }
        env.log(COUNT + " sync sends, all SEND_OK");

        ExampleKit.Inbox inbox = new ExampleKit.Inbox();
        DefaultMQPushConsumer consumer = ExampleKit.pushConsumer(env, "cg", "c");
        consumer.subscribe(env.topic, "*");
        consumer.registerMessageListener(inbox);
        consumer.start();
        try {
            List<MessageExt> got = ExampleKit.receive(env, inbox, COUNT, 60);
            ExampleKit.exactlyOnce(env, "the consumer", inbox, bodies);
            for (MessageExt m : got) {
                Check.that("TagA".equals(m.getTags()), env.name + ": tag " + m.getTags());
                Check.that(env.topic.equals(m.getTopic()), env.name + ": topic " + m.getTopic());
            }
        } finally {
            consumer.shutdown();
        }
        env.log("the consumer got each of the " + COUNT + " messages once, tag TagA");
    }
}
