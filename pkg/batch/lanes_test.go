package batch

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// goid returns the running goroutine's id, from its stack header
// ("goroutine 42 [running]:").
func goid() int {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	buf = bytes.TrimPrefix(buf, []byte("goroutine "))
	id, _ := strconv.Atoi(string(buf[:bytes.IndexByte(buf, ' ')]))
	return id
}

func lanesOf(n int) [][]int {
	lanes := make([][]int, n)
	for i := range lanes {
		lanes[i] = []int{i}
	}
	return lanes
}

// TestRunLanesRunsEveryLaneOnceWithinConcurrency: every lane runs exactly
// once, never more than concurrency at a time, the caller's goroutine
// taking its share.
func TestRunLanesRunsEveryLaneOnceWithinConcurrency(t *testing.T) {
	t.Parallel()
	type owner struct{}
	o := &owner{}
	wp := newWorkerPool(o, 3)
	for round := range 20 {
		var ran [25]atomic.Int32
		var running, peak atomic.Int32
		wp.runLanes(lanesOf(len(ran)), 4, func(lane []int) {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			runtime.Gosched()
			ran[lane[0]].Add(1)
			running.Add(-1)
		})
		for i := range ran {
			require.EqualValues(t, 1, ran[i].Load(), "round %d lane %d", round, i)
		}
		require.LessOrEqual(t, peak.Load(), int32(4), "round %d", round)
	}
	runtime.KeepAlive(o)
}

// TestWorkersAreKeptBetweenBatches: the goroutines that run one batch's
// lanes run the next ones (they keep the stacks the handler grew), instead
// of new goroutines per batch; never more than keep are kept.
func TestWorkersAreKeptBetweenBatches(t *testing.T) {
	t.Parallel()
	type owner struct{}
	o := &owner{}
	wp := newWorkerPool(o, 3)
	const batches = 50
	var mu sync.Mutex
	seen := map[int]bool{}
	for range batches {
		var started sync.WaitGroup
		started.Add(4)
		wp.runLanes(lanesOf(4), 4, func([]int) {
			mu.Lock()
			seen[goid()] = true
			mu.Unlock()
			// Hold every lane until all four run, so that each batch
			// needs the caller and three workers at once.
			started.Done()
			started.Wait()
		})
		require.LessOrEqual(t, wp.kept.Load(), int32(3))
	}
	// A goroutine per lane and batch would be 3 × 50 = 150 goroutines plus
	// the caller. The workers of one batch count themselves idle before it
	// returns, so the next batch reuses all three, however late they are
	// scheduled: the caller and the same three workers ran every lane.
	require.Len(t, seen, 4, "lanes ran on %d goroutines over %d batches", len(seen), batches)
	runtime.KeepAlive(o)
}

// TestWorkersExitWhenTheOwnerIsCollected: a Processor dropped by its user
// takes its workers with it.
func TestWorkersExitWhenTheOwnerIsCollected(t *testing.T) {
	t.Parallel()
	type owner struct{ _ [16]byte }
	wp := func() *workerPool {
		o := &owner{}
		wp := newWorkerPool(o, 3)
		var started sync.WaitGroup
		started.Add(4)
		wp.runLanes(lanesOf(4), 4, func([]int) { started.Done(); started.Wait() })
		return wp
	}()
	deadline := time.Now().Add(30 * time.Second)
	for wp.kept.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	require.EqualValues(t, 3, wp.kept.Load(), "three workers kept after the batch")
	for wp.kept.Load() > 0 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	require.Zero(t, wp.kept.Load(), "the workers exit once their owner is unreachable")
}

// TestProcessorOfConcurrencyOneStartsNoWorker: sequential processing stays
// on the caller's goroutine.
func TestProcessorOfConcurrencyOneStartsNoWorker(t *testing.T) {
	t.Parallel()
	type owner struct{}
	o := &owner{}
	wp := newWorkerPool(o, 0)
	caller := goid()
	wp.runLanes(lanesOf(5), 1, func([]int) { require.Equal(t, caller, goid()) })
	require.Zero(t, wp.kept.Load())
	runtime.KeepAlive(o)
}
