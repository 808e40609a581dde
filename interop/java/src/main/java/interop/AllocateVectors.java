/*
 * Prints the queue allocations of 4.8.0's AllocateMessageQueueConsistentHash,
 * AllocateMessageQueueByMachineRoom and AllocateMachineRoomNearby for fixed inputs: the vectors
 * the unit tests of crates/client/src/consumer/allocate/ compare with. Not part of a suite; run
 * after interop/run.sh has prepared the classpath:
 *   java -cp interop/java/target/classes:'interop/java/target/lib/*' interop.AllocateVectors
 */
package interop;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import org.apache.rocketmq.client.consumer.AllocateMessageQueueStrategy;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMachineRoomNearby;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueAveragely;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueByMachineRoom;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueConsistentHash;
import org.apache.rocketmq.common.message.MessageQueue;

public final class AllocateVectors {
    private AllocateVectors() {
    }

    static List<MessageQueue> queues(String topic, String[] brokers, int perBroker) {
        List<MessageQueue> out = new ArrayList<>();
        for (String b : brokers) {
            for (int q = 0; q < perBroker; q++) {
                out.add(new MessageQueue(topic, b, q));
            }
        }
        return out;
    }

    static void print(String name, AllocateMessageQueueStrategy s, List<MessageQueue> mqs, List<String> cids) {
        for (String cid : cids) {
            StringBuilder sb = new StringBuilder();
            for (MessageQueue mq : s.allocate("g", cid, mqs, cids)) {
                sb.append(' ').append(mq.getBrokerName()).append(':').append(mq.getQueueId());
            }
            System.out.println(name + " " + cid + ":" + sb);
        }
    }

    public static void main(String[] args) {
        List<MessageQueue> mqs = queues("TopicTest", new String[] {"broker-a", "broker-b"}, 4);
        List<String> cids = Arrays.asList("10.0.0.1@1", "10.0.0.2@2", "10.0.0.3@3");
        print("CONSISTENT_HASH", new AllocateMessageQueueConsistentHash(), mqs, cids);
        print("CONSISTENT_HASH_2", new AllocateMessageQueueConsistentHash(),
            mqs, Arrays.asList("10.0.0.1@1", "10.0.0.2@2"));

        List<MessageQueue> rooms = queues("T", new String[] {"IDC1@b1", "IDC2@b2", "IDC3@b3"}, 3);
        AllocateMessageQueueByMachineRoom byRoom = new AllocateMessageQueueByMachineRoom();
        byRoom.setConsumeridcs(new HashSet<>(Arrays.asList("IDC1", "IDC2")));
        print("MACHINE_ROOM", byRoom, rooms, Arrays.asList("c1", "c2", "c3", "c4"));

        AllocateMachineRoomNearby.MachineRoomResolver resolver = new AllocateMachineRoomNearby.MachineRoomResolver() {
            @Override
            public String brokerDeployIn(MessageQueue mq) {
                return mq.getBrokerName().split("-")[0];
            }

            @Override
            public String consumerDeployIn(String clientID) {
                return clientID.split("-")[0];
            }
        };
        List<MessageQueue> near = queues("T", new String[] {"IDC1-b1", "IDC2-b2", "IDC3-b3"}, 3);
        print("NEARBY", new AllocateMachineRoomNearby(new AllocateMessageQueueAveragely(), resolver), near,
            Arrays.asList("IDC1-c1", "IDC1-c2", "IDC2-c3"));
    }
}
