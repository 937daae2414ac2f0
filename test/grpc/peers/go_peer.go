// A gRPC peer on Go's grpc-go, for the asioctx gRPC tests.
//
//	go_peer serve                      prints its port, then serves Peer
//	go_peer call ADDR TIMEOUT_MS SLEEP_MS TAG CANCEL_AFTER_MS ID TRACEPARENT FORWARD_TO
//	                                   one Sleep call; prints one line of key=value
//	go_peer repeat ADDR N TIMEOUT_MS SLEEP_MS TAG
//	                                   N calls in turn, tags TAG-0 ... ; one line each
//
// A timeout or cancel of 0 means none; "-" means an empty id, traceparent or forward_to.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"peerpb"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

type record struct {
	reply peerpb.EndedReply
	done  chan struct{}
}

type server struct {
	mu    sync.Mutex
	calls map[string]*record
}

func (s *server) get(tag string) *record {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.calls[tag]
	if !ok {
		r = &record{done: make(chan struct{})}
		s.calls[tag] = r
	}
	return r
}

func first(md metadata.MD, key string) string {
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

func ending(err error) string {
	switch err {
	case nil:
		return "ok"
	case context.Canceled:
		return "canceled"
	case context.DeadlineExceeded:
		return "deadline"
	}
	return "error:" + err.Error()
}

func (s *server) Sleep(ctx context.Context, req *peerpb.SleepRequest) (*peerpb.SleepReply, error) {
	reply := &peerpb.SleepReply{Tag: req.Tag, RemainingUs: -1}
	if d, ok := ctx.Deadline(); ok {
		reply.RemainingUs = time.Until(d).Microseconds()
	}
	md, _ := metadata.FromIncomingContext(ctx)
	reply.RequestId = first(md, "x-request-id")
	reply.Traceparent = first(md, "traceparent")
	reply.Tracestate = first(md, "tracestate")
	reply.Baggage = first(md, "baggage")
	r := s.get(req.Tag)
	r.reply = peerpb.EndedReply{RemainingUs: reply.RemainingUs, RequestId: reply.RequestId, Traceparent: reply.Traceparent}

	var err error
	if req.ForwardTo != "" {
		var next *peerpb.SleepReply
		next, err = forward(ctx, req)
		reply.Next = next
	} else {
		select {
		case <-time.After(time.Duration(req.SleepMs) * time.Millisecond):
		case <-ctx.Done():
		}
	}
	r.reply.Ended = ending(ctx.Err())
	close(r.done)
	if ctx.Err() != nil {
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	return reply, err
}

func forward(ctx context.Context, req *peerpb.SleepRequest) (*peerpb.SleepReply, error) {
	conn, err := grpc.Dial(req.ForwardTo, grpc.WithInsecure())
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return peerpb.NewPeerClient(conn).Sleep(ctx, &peerpb.SleepRequest{SleepMs: req.SleepMs, Tag: req.Tag})
}

func (s *server) Ended(ctx context.Context, req *peerpb.EndedRequest) (*peerpb.EndedReply, error) {
	r := s.get(req.Tag)
	wait := 5 * time.Second
	if req.WaitMs > 0 {
		wait = time.Duration(req.WaitMs) * time.Millisecond
	}
	select {
	case <-r.done:
		reply := r.reply
		return &reply, nil
	case <-time.After(wait):
		return &peerpb.EndedReply{}, nil
	}
}

func arg(i int) string {
	if len(os.Args) <= i || os.Args[i] == "-" {
		return ""
	}
	return os.Args[i]
}

func num(i int) int64 {
	n, err := strconv.ParseInt(arg(i), 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go_peer: not a number:", arg(i))
		os.Exit(2)
	}
	return n
}

// One call; prints code=... and what the server reported.
func call(client peerpb.PeerClient, timeoutMs, sleepMs int64, tag string, cancelAfterMs int64, id, tp, forwardTo string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if timeoutMs > 0 {
		ctx, cancel = context.WithTimeout(ctx, time.Duration(timeoutMs)*time.Millisecond)
		defer cancel()
	}
	if cancelAfterMs > 0 {
		time.AfterFunc(time.Duration(cancelAfterMs)*time.Millisecond, cancel)
	}
	var pairs []string
	if id != "" {
		pairs = append(pairs, "x-request-id", id)
	}
	if tp != "" {
		pairs = append(pairs, "traceparent", tp)
	}
	ctx = metadata.AppendToOutgoingContext(ctx, pairs...)
	var header metadata.MD
	start := time.Now()
	reply, err := client.Sleep(ctx, &peerpb.SleepRequest{SleepMs: sleepMs, Tag: tag, ForwardTo: forwardTo}, grpc.Header(&header))
	elapsed := time.Since(start).Milliseconds()
	code := status.Code(err)
	if reply == nil {
		reply = &peerpb.SleepReply{}
	}
	fmt.Printf("tag=%s code=%s elapsed_ms=%d remaining_us=%d request_id=%s traceparent=%s echoed_id=%s\n",
		tag, code, elapsed, reply.RemainingUs, reply.RequestId, reply.Traceparent, first(header, "x-request-id"))
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go_peer serve | call ... | repeat ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, "go_peer:", err)
			os.Exit(1)
		}
		s := grpc.NewServer()
		peerpb.RegisterPeerServer(s, &server{calls: map[string]*record{}})
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
		s.Serve(l)
	case "call", "repeat":
		conn, err := grpc.Dial(arg(2), grpc.WithInsecure())
		if err != nil {
			fmt.Fprintln(os.Stderr, "go_peer:", err)
			os.Exit(1)
		}
		defer conn.Close()
		client := peerpb.NewPeerClient(conn)
		if os.Args[1] == "call" {
			call(client, num(3), num(4), arg(5), num(6), arg(7), arg(8), arg(9))
		} else {
			for i := int64(0); i < num(3); i++ {
				call(client, num(4), num(5), fmt.Sprintf("%s-%d", arg(6), i), 0, "", "", "")
			}
		}
	default:
		fmt.Fprintln(os.Stderr, "go_peer: unknown mode", os.Args[1])
		os.Exit(2)
	}
}
