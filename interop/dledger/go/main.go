// Command dledger-failover is the Go half of interop/dledger (see README.md there): the official
// rocketmq-client-go v2.0.0 producer calls SendSync without pause on a topic served by a DLedger
// group of our mqbroker processes while run.sh kills the group's leader.
//
// Every body is unique ("go-<run>-<seq>"). Each acknowledged send (SendOK) is appended, as
// "<ackMillis> <body>", to the ack file and synced at once, so the file is exactly the set of
// messages the client was told are stored. Failed sends are counted and logged with their time.
// The producer stops when the stop file appears and prints one summary line:
//
//	go summary: attempts=N acked=N errors=N notOk=N firstError=MS lastError=MS
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
)

func nowMs() int64 { return time.Now().UnixNano() / int64(time.Millisecond) }

func main() {
	namesrv := flag.String("namesrv", "127.0.0.1:9876", "name server address")
	topic := flag.String("topic", "", "topic to send to (must exist)")
	ackFile := flag.String("ack-file", "", "where acknowledged bodies are recorded")
	stopFile := flag.String("stop-file", "", "the producer stops when this file exists")
	flag.Parse()
	if *topic == "" || *ackFile == "" || *stopFile == "" {
		fmt.Fprintln(os.Stderr, "usage: dledger-failover -namesrv ADDR -topic T -ack-file F -stop-file F")
		os.Exit(2)
	}
	if err := run(*namesrv, *topic, *ackFile, *stopFile); err != nil {
		fmt.Printf("go: FAILED: %v\n", err)
		os.Exit(1)
	}
}

func run(namesrv, topic, ackFile, stopFile string) error {
	runID := strconv.FormatInt(nowMs(), 36)
	p, err := rocketmq.NewProducer(
		producer.WithNameServer([]string{namesrv}),
		producer.WithGroupName("dledger_failover_go_"+runID),
		producer.WithInstanceName("dledger-failover-go-"+runID),
		producer.WithRetry(2),
		producer.WithSendMsgTimeout(3*time.Second),
	)
	if err != nil {
		return fmt.Errorf("NewProducer: %w", err)
	}
	if err := p.Start(); err != nil {
		return fmt.Errorf("producer start: %w", err)
	}
	defer func() { _ = p.Shutdown() }()

	f, err := os.Create(ackFile)
	if err != nil {
		return err
	}
	defer f.Close()
	out := bufio.NewWriter(f)

	var attempts, acked, errors, notOk, firstError, lastError int64
	for {
		if _, err := os.Stat(stopFile); err == nil {
			break
		}
		body := fmt.Sprintf("go-%s-%d", runID, attempts)
		attempts++
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		r, err := p.SendSync(ctx, primitive.NewMessage(topic, []byte(body)).WithTag("failover"))
		cancel()
		switch {
		case err != nil:
			now := nowMs()
			if errors == 0 {
				firstError = now
			}
			lastError = now
			errors++
			fmt.Printf("go: send error at %d: %s\n", now, firstLine(err.Error()))
			time.Sleep(50 * time.Millisecond)
		case r.Status != primitive.SendOK:
			notOk++
			fmt.Printf("go: %s status %d\n", body, r.Status)
		default:
			fmt.Fprintf(out, "%d %s\n", nowMs(), body)
			if err := out.Flush(); err != nil {
				return err
			}
			acked++
		}
	}
	fmt.Printf("go summary: attempts=%d acked=%d errors=%d notOk=%d firstError=%d lastError=%d\n",
		attempts, acked, errors, notOk, firstError, lastError)
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
