// Command go-interop is the Go half of the interop suite (see interop/README.md): the official
// rocketmq-client-go v2.0.0 against our mqnamesrv/mqbroker. It sends messages with tags, keys and
// a user property (SendSync one by one, SendSync as a batch, SendAsync), then a push consumer
// reading from the first offset must receive every one of them with the same body, tags, keys
// and property. The topic must exist already (interop/run.sh creates it with our mqadmin).
// With -delay-topic it then checks delayed messages on levels 1-3 (delay.go); with
// -restart-topic it runs only the broker-restart half of the delay checks, synchronised with
// run.sh through files in -sync-dir.
//
// Exit status 0 when every check passed, 1 otherwise.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
)

const prop = "goInteropProp"

// sent is what a message must look like when it comes back.
type sent struct {
	tags, keys, prop string
}

func ok(format string, args ...interface{}) {
	fmt.Printf("  ok   "+format+"\n", args...)
}

func main() {
	namesrv := flag.String("namesrv", "127.0.0.1:9876", "name server address")
	topic := flag.String("topic", "", "topic to use (must exist)")
	perMode := flag.Int("n", 10, "messages per send mode")
	timeout := flag.Duration("timeout", 60*time.Second, "how long the consumer may take")
	delayTopic := flag.String("delay-topic", "", "also check delay levels 1-3 on this topic (must exist)")
	delayLevelText := flag.String("delay-levels", "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h",
		"the broker's messageDelayLevel")
	restartTopic := flag.String("restart-topic", "", "run only the broker-restart delay check on this topic")
	syncDir := flag.String("sync-dir", "", "handshake directory shared with run.sh (restart check)")
	flag.Parse()
	levels, err := delayLevels(*delayLevelText)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if *restartTopic != "" {
		if *syncDir == "" {
			fmt.Fprintln(os.Stderr, "usage: go-interop -namesrv ADDR -restart-topic TOPIC -sync-dir DIR")
			os.Exit(2)
		}
		if err := checkRestart(*namesrv, *restartTopic, *syncDir, levels); err != nil {
			fmt.Printf("go restart: FAILED: %v\n", err)
			os.Exit(1)
		}
		fmt.Println("go restart: all checks passed")
		return
	}
	if *topic == "" {
		fmt.Fprintln(os.Stderr, "usage: go-interop -namesrv ADDR -topic TOPIC [-delay-topic TOPIC]")
		os.Exit(2)
	}
	if err := run(*namesrv, *topic, *perMode, *timeout); err != nil {
		fmt.Printf("go interop: FAILED: %v\n", err)
		os.Exit(1)
	}
	if *delayTopic != "" {
		if err := checkLevels(*namesrv, *delayTopic, levels); err != nil {
			fmt.Printf("go interop: FAILED: %v\n", err)
			os.Exit(1)
		}
	}
	fmt.Println("go interop: all checks passed")
}

func run(namesrv, topic string, perMode int, timeout time.Duration) error {
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	want := map[string]sent{}
	var mu sync.Mutex
	newMsg := func(mode string, i int) *primitive.Message {
		body := fmt.Sprintf("go-interop-%s-%s-%d", runID, mode, i)
		tag := "TagA"
		if i%2 == 1 {
			tag = "TagB"
		}
		m := primitive.NewMessage(topic, []byte(body))
		m.WithTag(tag)
		m.WithKeys([]string{fmt.Sprintf("gkey-%s-%d", mode, i), "run-" + runID})
		m.WithProperty(prop, "v-"+strconv.Itoa(i))
		mu.Lock()
		want[body] = sent{tags: m.GetTags(), keys: m.GetKeys(), prop: m.GetProperty(prop)}
		mu.Unlock()
		return m
	}

	p, err := rocketmq.NewProducer(
		producer.WithNameServer([]string{namesrv}),
		producer.WithGroupName("go_interop_pg_"+runID),
		producer.WithRetry(2),
		producer.WithSendMsgTimeout(10*time.Second),
	)
	if err != nil {
		return fmt.Errorf("new producer: %w", err)
	}
	if err := p.Start(); err != nil {
		return fmt.Errorf("start producer: %w", err)
	}
	defer p.Shutdown() //nolint:errcheck

	ctx := context.Background()
	for i := 0; i < perMode; i++ {
		m := newMsg("sync", i)
		r, err := p.SendSync(ctx, m)
		// The first send may race the broker's registration of the new topic in the name server.
		for retryUntil := time.Now().Add(30 * time.Second); err != nil && i == 0 && time.Now().Before(retryUntil); {
			time.Sleep(500 * time.Millisecond)
			r, err = p.SendSync(ctx, m)
		}
		if err != nil {
			return fmt.Errorf("SendSync %d: %w", i, err)
		}
		if r.Status != primitive.SendOK || r.MsgID == "" || r.QueueOffset < 0 {
			return fmt.Errorf("SendSync %d: unexpected result %s", i, r)
		}
	}
	ok("producer SendSync x%d", perMode)

	batch := make([]*primitive.Message, 0, perMode)
	for i := 0; i < perMode; i++ {
		batch = append(batch, newMsg("batch", i))
	}
	r, err := p.SendSync(ctx, batch...)
	if err != nil {
		return fmt.Errorf("SendSync batch: %w", err)
	}
	if r.Status != primitive.SendOK {
		return fmt.Errorf("SendSync batch: unexpected result %s", r)
	}
	ok("producer SendSync batch of %d", perMode)

	var wg sync.WaitGroup
	var asyncErrs []string
	for i := 0; i < perMode; i++ {
		wg.Add(1)
		err := p.SendAsync(ctx, func(_ context.Context, r *primitive.SendResult, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				asyncErrs = append(asyncErrs, err.Error())
			} else if r.Status != primitive.SendOK {
				asyncErrs = append(asyncErrs, r.String())
			}
		}, newMsg("async", i))
		if err != nil {
			wg.Done()
			return fmt.Errorf("SendAsync %d: %w", i, err)
		}
	}
	if !waitGroup(&wg, 30*time.Second) {
		return fmt.Errorf("SendAsync: callbacks did not all arrive")
	}
	if len(asyncErrs) > 0 {
		return fmt.Errorf("SendAsync errors: %v", asyncErrs)
	}
	ok("producer SendAsync x%d", perMode)

	got := map[string]*primitive.MessageExt{}
	deliveries := 0
	group := "go_interop_cg_" + runID
	c, err := rocketmq.NewPushConsumer(
		consumer.WithGroupName(group),
		consumer.WithNameServer([]string{namesrv}),
		consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset),
	)
	if err != nil {
		return fmt.Errorf("new push consumer: %w", err)
	}
	err = c.Subscribe(topic, consumer.MessageSelector{Type: consumer.TAG, Expression: "*"},
		func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range msgs {
				deliveries++
				if _, seen := got[string(m.Body)]; !seen {
					got[string(m.Body)] = m
				}
			}
			return consumer.ConsumeSuccess, nil
		})
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if err := c.Start(); err != nil {
		return fmt.Errorf("start push consumer: %w", err)
	}
	defer c.Shutdown() //nolint:errcheck

	deadline := time.Now().Add(timeout)
	var missing []string
	for {
		mu.Lock()
		missing = missing[:0]
		for body := range want {
			if _, seen := got[body]; !seen {
				missing = append(missing, body)
			}
		}
		mu.Unlock()
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("push consumer did not receive %d of %d messages within %s, e.g. %s",
			len(missing), len(want), timeout, missing[0])
	}
	mu.Lock()
	defer mu.Unlock()
	for body, m := range got {
		s, known := want[body]
		if !known {
			return fmt.Errorf("received a message nobody sent: %q", body)
		}
		if m.Topic != topic {
			return fmt.Errorf("topic of %s: %q", body, m.Topic)
		}
		if m.GetTags() != s.tags {
			return fmt.Errorf("tags of %s: %q, sent %q", body, m.GetTags(), s.tags)
		}
		if m.GetKeys() != s.keys {
			return fmt.Errorf("keys of %s: %q, sent %q", body, m.GetKeys(), s.keys)
		}
		if m.GetProperty(prop) != s.prop {
			return fmt.Errorf("property of %s: %q, sent %q", body, m.GetProperty(prop), s.prop)
		}
		if m.MsgId == "" || m.QueueOffset < 0 || m.StoreTimestamp <= 0 {
			return fmt.Errorf("store fields of %s: %s", body, m)
		}
	}
	ok("push consumer %s received all %d messages with the sent body, tags, keys and property (%d deliveries)",
		group, len(want), deliveries)
	return nil
}

func waitGroup(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}
