// Go's context package on the operations that bench/context_bench.cpp measures for
// asioctx, so that bench/context_vs_go.sh can compare both in one run on one machine.
//
// Usage (from bench/go): go test -run '^$' -bench . -benchmem
package main

import (
	"context"
	"testing"
	"time"
)

// WithCancel from Background, then cancel: with_cancel_from_background.
func BenchmarkWithCancelFromBackground(b *testing.B) {
	for i := 0; i < b.N; i++ {
		_, cancel := context.WithCancel(context.Background())
		cancel()
	}
}

// WithCancel below a cancellable parent: with_cancel_child_of_cancellable.
func BenchmarkWithCancelChildOfCancellable(b *testing.B) {
	parent, stop := context.WithCancel(context.Background())
	defer stop()
	for i := 0; i < b.N; i++ {
		_, cancel := context.WithCancel(parent)
		cancel()
	}
}

// WithTimeout + cancel with no other timer pending: with_timeout_cancel_idle.
func BenchmarkWithTimeoutCancelIdle(b *testing.B) {
	for i := 0; i < b.N; i++ {
		_, cancel := context.WithTimeout(context.Background(), time.Hour)
		cancel()
	}
}

// The same while another deadline is pending: with_timeout_cancel_busy.
func BenchmarkWithTimeoutCancelBusy(b *testing.B) {
	_, other := context.WithTimeout(context.Background(), 30*time.Minute)
	defer other()
	for i := 0; i < b.N; i++ {
		_, cancel := context.WithTimeout(context.Background(), time.Hour)
		cancel()
	}
}

// 1000 children of one parent, then the parent cancelled: the fan-out benchmark.
func BenchmarkFanout1000ThenCancelParent(b *testing.B) {
	for i := 0; i < b.N; i++ {
		parent, cancel := context.WithCancel(context.Background())
		for c := 0; c < 1000; c++ {
			context.WithCancel(parent)
		}
		cancel()
	}
}
