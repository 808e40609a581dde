/*
 * rocketmq-example 4.8.0, package filter (TagFilterProducer / TagFilterConsumer): 60 messages
 * tagged TagA, TagB, TagC in turn; a consumer subscribed to "TagA || TagC" receives only those.
 * Checked: that group gets exactly the 40 TagA/TagC messages, a second group subscribed to "TagB"
 * exactly the other 20, each once, with the tag they were sent with.
 */
package interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

final class ExampleTagFilter {
    private ExampleTagFilter() {
    }

    static void run(ExampleKit.Env env) throws Exception {
        String[] tags = {"TagA", "TagB", "TagC"};
        Map<String, String> tagOf = new HashMap<>();
        DefaultMQProducer producer = ExampleKit.producer(env, "pg");
        try {
            for (int i = 0; i < 60; i++) {
                String body = "Hello world " + i;
                String tag = tags[i % tags.length];
                Message msg = new Message(env.topic, tag, body.getBytes(StandardCharsets.UTF_8));
                ExampleKit.send(env, producer, () -> producer.send(msg), "send " + i);
                tagOf.put(body, tag);
            }
        } finally {
            producer.shutdown();
        }
        List<String> ac = new ArrayList<>();
        List<String> b = new ArrayList<>();
        tagOf.forEach((body, tag) -> (tag.equals("TagB") ? b : ac).add(body));

        ExampleKit.Inbox acInbox = new ExampleKit.Inbox();
        ExampleKit.Inbox bInbox = new ExampleKit.Inbox();
        DefaultMQPushConsumer acConsumer = ExampleKit.pushConsumer(env, "cg_ac", "ac");
        acConsumer.subscribe(env.topic, "TagA || TagC");
        acConsumer.registerMessageListener(acInbox);
        DefaultMQPushConsumer bConsumer = ExampleKit.pushConsumer(env, "cg_b", "b");
        bConsumer.subscribe(env.topic, "TagB");
        bConsumer.registerMessageListener(bInbox);
        acConsumer.start();
        bConsumer.start();
        try {
            ExampleKit.receive(env, acInbox, ac.size(), 60);
            ExampleKit.receive(env, bInbox, b.size(), 60);
            ExampleKit.exactlyOnce(env, "the TagA || TagC group", acInbox, ac);
            ExampleKit.exactlyOnce(env, "the TagB group", bInbox, b);
            for (ExampleKit.Inbox inbox : new ExampleKit.Inbox[] {acInbox, bInbox}) {
                for (MessageExt m : inbox.snapshot()) {
                    String want = tagOf.get(ExampleKit.body(m));
                    Check.that(want.equals(m.getTags()), env.name + ": " + ExampleKit.body(m) + " has tag "
                        + m.getTags() + ", sent with " + want);
                }
            }
        } finally {
            acConsumer.shutdown();
            bConsumer.shutdown();
        }
        env.log("60 sends; \"TagA || TagC\" got exactly its " + ac.size() + ", \"TagB\" exactly its " + b.size());
    }
}
