/*
 * ACL suite: the official 4.8.0 Java client with AclClientRPCHook and the real 4.8.0 mqadmin ACL
 * commands against our broker started with aclEnable=true.
 *
 * The expected refusal texts are not typed in here: each one is what the real 4.8.0
 * PlainAccessValidator (rocketmq-acl, same plain_acl.yml, this JVM) throws for the same request,
 * printed with RemotingHelper.exceptionSimpleDesc, which is how a 4.8.0 broker fills the remark.
 *
 * Args: NAMESRV CLUSTER BROKER_NAME BROKER_ADDR. rocketmq.home.dir is the ACL home: its
 * conf/plain_acl.yml is the broker's file, its conf/tools.yml holds the admin keys mqadmin uses.
 */
package interop;

import org.apache.rocketmq.acl.common.AclClientRPCHook;
import org.apache.rocketmq.acl.common.SessionCredentials;
import org.apache.rocketmq.acl.plain.PlainAccessValidator;
import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.protocol.RequestCode;
import org.apache.rocketmq.common.protocol.header.SendMessageRequestHeader;
import org.apache.rocketmq.common.protocol.header.SendMessageRequestHeaderV2;
import org.apache.rocketmq.remoting.RPCHook;
import org.apache.rocketmq.remoting.common.RemotingHelper;
import org.apache.rocketmq.remoting.protocol.RemotingCommand;

public final class AclInterop {
    static final String USER = "interopuser";
    static final String SECRET = "interop-secret";
    static final String TOPIC = "AclAllowed";
    static final String DENIED = "AclDenied";

    public static void main(String[] args) throws Exception {
        String ns = args[0];
        String cluster = args[1];
        String brokerName = args[2];
        String brokerAddr = args[3];
        try {
            run(ns, cluster, brokerName, brokerAddr);
            System.out.println("acl suite: all checks passed");
            System.exit(0);
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.exit(1);
        }
    }

    static void run(String ns, String cluster, String brokerName, String brokerAddr) throws Exception {
        PlainAccessValidator oracle = new PlainAccessValidator();

        // the admin (tools.yml) creates both topics with the real mqadmin
        MqAdmin.createTopic(ns, cluster, brokerAddr, TOPIC);
        MqAdmin.createTopic(ns, cluster, brokerAddr, DENIED);
        Check.ok("mqadmin updateTopic signed with conf/tools.yml (admin account)");

        // right key: sent
        DefaultMQProducer good = producer(ns, "AclGood", new AclClientRPCHook(new SessionCredentials(USER, SECRET)));
        for (int i = 0; i < 5; i++) {
            SendResult r = good.send(new Message(TOPIC, "TagA", ("acl " + i).getBytes("UTF-8")));
            Check.that(r.getSendStatus() == SendStatus.SEND_OK, "send with the right key: " + r);
        }
        Check.ok("AclClientRPCHook with the right key: 5 messages SEND_OK");

        // denied topic, wrong secret, unknown key, no hook at all: 4.8.0's remark, byte for byte
        refused(good, DENIED, oracle, USER, SECRET, brokerAddr, "denied topic");
        good.shutdown();
        refusedWith(ns, "AclWrong", new SessionCredentials(USER, "not-the-secret"), oracle, brokerAddr, "wrong secret");
        refusedWith(ns, "AclUnknown", new SessionCredentials("nobodyhere", SECRET), oracle, brokerAddr, "unknown key");
        refusedWith(ns, "AclNone", null, oracle, brokerAddr, "no credentials");

        // the real mqadmin's ACL commands (signed with the admin keys of conf/tools.yml)
        String out = MqAdmin.ok("updateAclConfig", "-n", ns, "-c", cluster, "-a", "javauser1", "-s", "javasecret1",
            "-i", "PUB", "-t", "AclAllowed=PUB,AclDenied=DENY", "-m", "false");
        Check.contains(out, "create or update plain access config to " + brokerAddr + " success.", "updateAclConfig");
        out = MqAdmin.ok("getAccessConfigSubCommand", "-n", ns, "-b", brokerAddr);
        Check.contains(out, "accessKey         : javauser1", "getAccessConfigSubCommand");
        Check.contains(out, "topicPerms        : [AclAllowed=PUB, AclDenied=DENY]", "getAccessConfigSubCommand");
        Check.ok("mqadmin updateAclConfig + getAccessConfigSubCommand");

        DefaultMQProducer created = producer(ns, "AclCreated", new AclClientRPCHook(new SessionCredentials("javauser1", "javasecret1")));
        SendResult r = created.send(new Message(TOPIC, "TagA", "new account".getBytes("UTF-8")));
        Check.that(r.getSendStatus() == SendStatus.SEND_OK, "send with the account updateAclConfig made: " + r);
        created.shutdown();
        Check.ok("the account made by updateAclConfig sends at once");

        out = MqAdmin.ok("clusterAclConfigVersion", "-n", ns, "-c", cluster);
        Check.contains(out, "#AclConfigVersionNum", "clusterAclConfigVersion header");
        Check.contains(out, brokerAddr, "clusterAclConfigVersion row");
        Check.contains(out, "get cluster's plain access config version success.", "clusterAclConfigVersion");
        out = MqAdmin.ok("updateGlobalWhiteAddr", "-n", ns, "-b", brokerAddr, "-g", "10.10.103.*,192.168.9.*");
        Check.contains(out, "update global white remote addresses to " + brokerAddr + " success.", "updateGlobalWhiteAddr");
        out = MqAdmin.ok("getAccessConfigSubCommand", "-n", ns, "-b", brokerAddr);
        Check.contains(out, "globalWhiteRemoteAddresses: [10.10.103.*, 192.168.9.*]", "white list after update");
        out = MqAdmin.ok("deleteAccessConfig", "-n", ns, "-c", cluster, "-a", "javauser1");
        Check.contains(out, "delete plain access config account to " + brokerAddr + " success.", "deleteAccessConfig");
        out = MqAdmin.ok("getAccessConfigSubCommand", "-n", ns, "-b", brokerAddr);
        Check.that(!out.contains("javauser1"), "deleted account still listed:\n" + out);
        Check.ok("mqadmin clusterAclConfigVersion, updateGlobalWhiteAddr, deleteAccessConfig");
    }

    static DefaultMQProducer producer(String ns, String group, RPCHook hook) throws Exception {
        DefaultMQProducer p = hook == null ? new DefaultMQProducer(group) : new DefaultMQProducer(group, hook);
        p.setNamesrvAddr(ns);
        p.setInstanceName(group + System.nanoTime());
        p.setRetryTimesWhenSendFailed(0);
        p.start();
        return p;
    }

    static void refusedWith(String ns, String group, SessionCredentials creds, PlainAccessValidator oracle,
        String brokerAddr, String what) throws Exception {
        DefaultMQProducer p = producer(ns, group, creds == null ? null : new AclClientRPCHook(creds));
        try {
            refused(p, TOPIC, oracle, creds == null ? null : creds.getAccessKey(),
                creds == null ? null : creds.getSecretKey(), brokerAddr, what);
        } finally {
            p.shutdown();
        }
    }

    /** Sends to `topic`, expects code 1 and the remark the real validator gives the same request. */
    static void refused(DefaultMQProducer p, String topic, PlainAccessValidator oracle, String ak, String sk,
        String brokerAddr, String what) throws Exception {
        String expected = oracleRemark(oracle, topic, ak, sk);
        Check.that(expected != null, what + ": the real 4.8.0 validator lets this request through");
        MQBrokerException refusal = null;
        try {
            SendResult r = p.send(new Message(topic, "TagA", "x".getBytes("UTF-8")));
            throw new AssertionError(what + ": send was not refused: " + r);
        } catch (Exception e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof MQBrokerException) {
                    refusal = (MQBrokerException) t;
                    break;
                }
            }
            Check.that(refusal != null, what + ": expected a broker refusal, got " + e);
        }
        Check.that(refusal.getResponseCode() == 1, what + ": code " + refusal.getResponseCode() + " (expected 1 SYSTEM_ERROR)");
        Check.that(expected.equals(refusal.getErrorMessage()),
            what + ": remark differs from 4.8.0's\n ours: " + refusal.getErrorMessage() + "\n 4.8.0: " + expected);
        Check.ok(what + ": refused, code 1, remark = 4.8.0's: " + expected);
    }

    /** What a 4.8.0 broker's PlainAccessValidator says to a SEND_MESSAGE_V2 of `topic` signed with ak/sk. */
    static String oracleRemark(PlainAccessValidator oracle, String topic, String ak, String sk) throws Exception {
        SendMessageRequestHeader h = new SendMessageRequestHeader();
        h.setProducerGroup("oracle");
        h.setTopic(topic);
        h.setDefaultTopic("TBW102");
        h.setDefaultTopicQueueNums(4);
        h.setQueueId(0);
        h.setSysFlag(0);
        h.setBornTimestamp(System.currentTimeMillis());
        h.setFlag(0);
        h.setProperties("");
        h.setReconsumeTimes(0);
        h.setUnitMode(false);
        h.setBatch(false);
        RemotingCommand cmd = RemotingCommand.createRequestCommand(RequestCode.SEND_MESSAGE_V2,
            SendMessageRequestHeaderV2.createSendMessageRequestHeaderV2(h));
        cmd.setBody("x".getBytes("UTF-8"));
        if (ak != null) {
            new AclClientRPCHook(new SessionCredentials(ak, sk)).doBeforeRequest("127.0.0.1:1", cmd);
        }
        cmd.makeCustomHeaderToNet();
        try {
            oracle.validate(oracle.parse(cmd, "127.0.0.1:40000"));
            return null;
        } catch (Exception e) {
            return RemotingHelper.exceptionSimpleDesc(e);
        }
    }
}
