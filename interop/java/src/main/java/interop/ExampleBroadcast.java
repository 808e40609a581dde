/*
 * rocketmq-example 4.8.0, package broadcast: a push consumer group in BROADCASTING mode,
 * subscribed to "TagA || TagC || TagD" from the first offset. Here three instances of that group
 * run at once (each keeps its offsets locally, as broadcasting consumers do) while a producer sends
 * 30 messages tagged TagA..TagE in turn. Checked: every instance receives every one of the 18
 * matching messages exactly once, and nothing else.
 */
package interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.protocol.heartbeat.MessageModel;

final class ExampleBroadcast {
    static final int INSTANCES = 3;

    private ExampleBroadcast() {
    }

    static void run(ExampleKit.Env env) throws Exception {
        List<DefaultMQPushConsumer> consumers = new ArrayList<>();
        List<ExampleKit.Inbox> inboxes = new ArrayList<>();
        for (int i = 0; i < INSTANCES; i++) {
            DefaultMQPushConsumer c = ExampleKit.pushConsumer(env, "cg", "instance" + i);
            c.setMessageModel(MessageModel.BROADCASTING);
            c.subscribe(env.topic, "TagA || TagC || TagD");
            ExampleKit.Inbox inbox = new ExampleKit.Inbox();
            c.registerMessageListener(inbox);
            consumers.add(c);
            inboxes.add(inbox);
        }
        String[] tags = {"TagA", "TagB", "TagC", "TagD", "TagE"};
        List<String> matching = new ArrayList<>();
        try {
            for (DefaultMQPushConsumer c : consumers) {
                c.start();
            }
            DefaultMQProducer producer = ExampleKit.producer(env, "pg");
            try {
                for (int i = 0; i < 30; i++) {
                    String tag = tags[i % tags.length];
                    String body = "Hello RocketMQ " + i + " " + tag;
                    Message msg = new Message(env.topic, tag, body.getBytes(StandardCharsets.UTF_8));
                    ExampleKit.send(env, producer, () -> producer.send(msg), "send " + i);
                    if (!tag.equals("TagB") && !tag.equals("TagE")) {
                        matching.add(body);
                    }
                }
            } finally {
                producer.shutdown();
            }
            for (int i = 0; i < INSTANCES; i++) {
                ExampleKit.receive(env, inboxes.get(i), matching.size(), 60);
                ExampleKit.exactlyOnce(env, "instance " + i, inboxes.get(i), matching);
            }
        } finally {
            for (DefaultMQPushConsumer c : consumers) {
                c.shutdown();
            }
        }
        env.log("30 sends; each of " + INSTANCES + " broadcasting instances got all " + matching.size()
            + " TagA/TagC/TagD messages once");
    }
}
