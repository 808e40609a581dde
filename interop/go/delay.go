package main

// The Go half of the delay-queue checks (issue 5; see interop/README.md):
//
//   - checkLevels: messages sent with WithDelayTimeLevel(1..3) reach a push consumer no earlier
//     than their level's delay after their born timestamp and at most lateMs after it, once each;
//   - restartSend / restartCheck: delayed messages sent before run.sh restarts the broker (SIGTERM,
//     same store and port) arrive exactly once, not early, and at most lateMs late (measured from
//     max(due, broker back + 1 s) when the due time fell into the downtime). The consumer starts
//     after the restart: client v2.0.0 heartbeats only every 30 s, and a restarted broker refuses
//     pulls from a group it has no heartbeat from, so a consumer living through the restart
//     would measure the client's heartbeat period, not the delay queue.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
)

const lateMs = 1000

// delayLevels parses the broker's messageDelayLevel ("1s 5s 10s ...") into milliseconds.
func delayLevels(text string) ([]int64, error) {
	var out []int64
	for _, item := range strings.Fields(text) {
		unit := map[byte]int64{'s': 1000, 'm': 60000, 'h': 3600000, 'd': 86400000}[item[len(item)-1]]
		n, err := strconv.ParseInt(item[:len(item)-1], 10, 64)
		if unit == 0 || err != nil {
			return nil, fmt.Errorf("bad delay level %q", item)
		}
		out = append(out, n*unit)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no delay levels in %q", text)
	}
	return out, nil
}

func delayOf(levels []int64, level int) int64 {
	if level > len(levels) {
		level = len(levels)
	}
	return levels[level-1]
}

// arrival is one delivery as the listener saw it.
type arrival struct {
	at  int64 // ms since the epoch
	msg *primitive.MessageExt
}

// arrivals records every delivery per body, duplicates included.
type arrivals struct {
	mu     sync.Mutex
	byBody map[string][]arrival
}

func newArrivals() *arrivals { return &arrivals{byBody: map[string][]arrival{}} }

func (a *arrivals) listener(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
	now := time.Now().UnixNano() / int64(time.Millisecond)
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, m := range msgs {
		a.byBody[string(m.Body)] = append(a.byBody[string(m.Body)], arrival{at: now, msg: m})
	}
	return consumer.ConsumeSuccess, nil
}

func (a *arrivals) count(body string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.byBody[body])
}

// waitAll waits until every body in want has arrived at least once.
func (a *arrivals) waitAll(want map[string]int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		missing := 0
		for body := range want {
			if a.count(body) == 0 {
				missing++
			}
		}
		if missing == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d delayed messages never arrived (waited %s)", missing, len(want), timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func newProducer(namesrv, group string) (rocketmq.Producer, error) {
	p, err := rocketmq.NewProducer(
		producer.WithNameServer([]string{namesrv}),
		producer.WithGroupName(group),
		// Its own client instance: v2.0.0 shares one per instance name, and an instance that
		// was shut down (by the previous check's producer) never starts again.
		producer.WithInstanceName(group),
		producer.WithRetry(2),
		producer.WithSendMsgTimeout(10*time.Second),
	)
	if err != nil {
		return nil, fmt.Errorf("new producer: %w", err)
	}
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("start producer: %w", err)
	}
	return p, nil
}

func newConsumer(namesrv, group, topic string, a *arrivals) (rocketmq.PushConsumer, error) {
	c, err := rocketmq.NewPushConsumer(
		consumer.WithGroupName(group),
		consumer.WithInstance(group),
		consumer.WithNameServer([]string{namesrv}),
		consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset),
	)
	if err != nil {
		return nil, fmt.Errorf("new push consumer: %w", err)
	}
	if err := c.Subscribe(topic, consumer.MessageSelector{Type: consumer.TAG, Expression: "*"}, a.listener); err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("start push consumer: %w", err)
	}
	return c, nil
}

// sendRetrying sends one message; the first send may race the topic's registration.
func sendRetrying(p rocketmq.Producer, m *primitive.Message) error {
	ctx := context.Background()
	r, err := p.SendSync(ctx, m)
	for until := time.Now().Add(30 * time.Second); err != nil && time.Now().Before(until); {
		time.Sleep(500 * time.Millisecond)
		r, err = p.SendSync(ctx, m)
	}
	if err != nil {
		return err
	}
	if r.Status != primitive.SendOK {
		return fmt.Errorf("send: unexpected result %s", r)
	}
	return nil
}

// warmUp sends one plain message and waits for it: the consumer then owns its queues and has
// a long poll parked on each, so what follows measures the delay queue, not the rebalance.
func warmUp(p rocketmq.Producer, topic string, a *arrivals, body string) error {
	if err := sendRetrying(p, primitive.NewMessage(topic, []byte(body))); err != nil {
		return fmt.Errorf("warm-up send: %w", err)
	}
	if err := a.waitAll(map[string]int{body: 0}, 60*time.Second); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	time.Sleep(300 * time.Millisecond)
	return nil
}

// sendDelayed sends rounds x levels messages with WithDelayTimeLevel; returns body -> level.
func sendDelayed(p rocketmq.Producer, topic, prefix string, levels []int, rounds int) (map[string]int, error) {
	want := map[string]int{}
	for i := 0; i < rounds; i++ {
		for _, level := range levels {
			body := fmt.Sprintf("%s-L%d-%d", prefix, level, i)
			m := primitive.NewMessage(topic, []byte(body))
			m.WithTag("L" + strconv.Itoa(level))
			m.WithDelayTimeLevel(level)
			if err := sendRetrying(p, m); err != nil {
				return nil, fmt.Errorf("send %s: %w", body, err)
			}
			want[body] = level
		}
	}
	return want, nil
}

// window gives, for a message, the latest allowed arrival (ms since the epoch) and whether its
// due time fell into the broker's downtime.
type window func(due int64) (latest int64, downtime bool)

func plainWindow(due int64) (int64, bool) { return due + lateMs, false }

// verify checks every wanted message: once, on its topic, not early, not later than allowed.
// It returns a per-level lateness summary.
func verify(a *arrivals, topic string, want map[string]int, levels []int64, allowed window) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	type span struct{ lo, hi int64 }
	per := map[string]*span{}
	for body, level := range want {
		got := a.byBody[body]
		if len(got) != 1 {
			return "", fmt.Errorf("%s delivered %d times", body, len(got))
		}
		m := got[0].msg
		if m.Topic != topic {
			return "", fmt.Errorf("%s arrived on topic %q", body, m.Topic)
		}
		delay := delayOf(levels, level)
		due := m.BornTimestamp + delay
		if m.StoreTimestamp < due {
			return "", fmt.Errorf("level %d message %s re-put %d ms early", level, body, due-m.StoreTimestamp)
		}
		if got[0].at < due {
			return "", fmt.Errorf("level %d message %s arrived %d ms early", level, body, due-got[0].at)
		}
		latest, downtime := allowed(due)
		if got[0].at > latest {
			return "", fmt.Errorf("level %d message %s arrived %d ms after due (allowed %d, due while broker down: %v)",
				level, body, got[0].at-due, latest-due, downtime)
		}
		key := fmt.Sprintf("L%d=%ds", level, delay/1000)
		if downtime {
			key += "(due while down)"
		}
		late := got[0].at - due
		if s, ok := per[key]; ok {
			if late < s.lo {
				s.lo = late
			}
			if late > s.hi {
				s.hi = late
			}
		} else {
			per[key] = &span{late, late}
		}
	}
	keys := make([]string, 0, len(per))
	for k := range per {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, " %s:+%d..+%d ms", k, per[k].lo, per[k].hi)
	}
	return sb.String(), nil
}

// checkLevels: WithDelayTimeLevel 1..3 against a consumer that is already running.
func checkLevels(namesrv, topic string, levels []int64) error {
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	a := newArrivals()
	c, err := newConsumer(namesrv, "go_interop_cg_levels_"+runID, topic, a)
	if err != nil {
		return err
	}
	defer c.Shutdown() //nolint:errcheck
	p, err := newProducer(namesrv, "go_interop_pg_levels_"+runID)
	if err != nil {
		return err
	}
	defer p.Shutdown() //nolint:errcheck
	if err := warmUp(p, topic, a, "go-levels-warm-"+runID); err != nil {
		return err
	}
	want, err := sendDelayed(p, topic, "go-levels-"+runID, []int{1, 2, 3}, 3)
	if err != nil {
		return err
	}
	if err := a.waitAll(want, time.Duration(delayOf(levels, 3))*time.Millisecond+30*time.Second); err != nil {
		return err
	}
	time.Sleep(1500 * time.Millisecond) // a second delivery would show up by now
	summary, err := verify(a, topic, want, levels, plainWindow)
	if err != nil {
		return err
	}
	ok("WithDelayTimeLevel 1-3: %d messages, each once, not early, at most %d ms late; lateness per level:%s",
		len(want), lateMs, summary)
	return nil
}

func touch(path, text string) error {
	if err := os.WriteFile(path+".tmp", []byte(text), 0o644); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

func waitFile(path string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			return strings.TrimSpace(string(b)), nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("run.sh never wrote %s", path)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkRestart: the producer sends delayed messages (levels 3 and 1) when run.sh says "send",
// run.sh restarts the broker, then a consumer started on the restarted broker must see each
// message once, not early, and not late.
func checkRestart(namesrv, topic, syncDir string, levels []int64) error {
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	p, err := newProducer(namesrv, "go_interop_pg_restart_"+runID)
	if err != nil {
		return err
	}
	// Route warm-up: the first send waits for the topic's route.
	if err := sendRetrying(p, primitive.NewMessage(topic, []byte("go-restart-warm-"+runID))); err != nil {
		return fmt.Errorf("warm-up send: %w", err)
	}
	if err := touch(filepath.Join(syncDir, "go.ready"), "ready"); err != nil {
		return err
	}
	if _, err := waitFile(filepath.Join(syncDir, "send"), 120*time.Second); err != nil {
		return err
	}
	want, err := sendDelayed(p, topic, "go-restart-"+runID, []int{3, 1}, 3)
	p.Shutdown() //nolint:errcheck
	if err != nil {
		return err
	}
	if err := touch(filepath.Join(syncDir, "go.sent"), "sent"); err != nil {
		return err
	}
	times, err := waitFile(filepath.Join(syncDir, "restarted"), 120*time.Second)
	if err != nil {
		return err
	}
	var down, back int64
	if _, err := fmt.Sscanf(times, "%d %d", &down, &back); err != nil {
		return fmt.Errorf("restarted file %q: %w", times, err)
	}
	a := newArrivals()
	c, err := newConsumer(namesrv, "go_interop_cg_restart_"+runID, topic, a)
	if err != nil {
		return err
	}
	defer c.Shutdown() //nolint:errcheck
	if err := a.waitAll(want, 60*time.Second); err != nil {
		return err
	}
	time.Sleep(3 * time.Second) // a re-delivery after the restart would show up by now
	summary, err := verify(a, topic, want, levels, func(due int64) (int64, bool) {
		if due >= down-lateMs && due < back+1000 {
			return back + 1000 + lateMs, true
		}
		return due + lateMs, false
	})
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	ok("restart (broker down %d ms): %d delayed messages (levels 1 and 3) each arrived once, none early; ms after due:%s",
		back-down, len(want), summary)
	return nil
}
