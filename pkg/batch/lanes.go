package batch

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/events"
)

// workerPool keeps the goroutines that run a batch's lanes from one batch to
// the next. A goroutine starts with a small stack that grows by copying as
// calls go deeper, and an AWS SDK call goes deep (its middleware chain needs
// tens of KiB): a new goroutine per lane and batch paid that growth on every
// batch, about 15% of the CPU of a batch of ten DynamoDB writes
// (docs/performance.md). A kept worker keeps its grown stack.
//
// The pool holds no reference to its Processor: when the Processor becomes
// unreachable, a cleanup closes jobs and the kept workers exit.
type workerPool struct {
	// jobs hands a run to a waiting worker. Unbuffered: a send is made only
	// after claiming an idle worker (idle), so it never waits on a busy one.
	jobs chan *laneRun
	// keep is how many workers wait for the next run at most; kept counts
	// them (waiting or running).
	keep int32
	kept atomic.Int32
	// idle counts the kept workers that finished their run and are, or are
	// about to be, receiving on jobs, and that no runLanes has claimed. A
	// worker counts itself idle before it reports its run done, so a batch
	// that starts after the previous one returned finds every kept worker
	// claimable: whether a worker is reused does not depend on how soon it is
	// scheduled again.
	idle atomic.Int32
}

// laneRun is one Process call's lanes, taken one at a time by the caller
// and the workers it woke.
type laneRun struct {
	lanes [][]int
	run   func(lane []int)
	next  atomic.Int64
	wg    sync.WaitGroup
}

// work runs lanes until none is left.
func (r *laneRun) work() {
	for {
		i := int(r.next.Add(1)) - 1
		if i >= len(r.lanes) {
			return
		}
		r.run(r.lanes[i])
	}
}

// newWorkerPool returns a pool keeping up to keep workers, closed when owner
// becomes unreachable.
func newWorkerPool[T any](owner *T, keep int) *workerPool {
	wp := &workerPool{jobs: make(chan *laneRun), keep: int32(keep)}
	runtime.AddCleanup(owner, func(jobs chan *laneRun) { close(jobs) }, wp.jobs)
	return wp
}

// runLanes calls run for every lane, on up to concurrency goroutines: the
// caller's and concurrency−1 workers (none when concurrency is 1 or there is
// one lane).
func (wp *workerPool) runLanes(lanes [][]int, concurrency int, run func(lane []int)) {
	workers := min(concurrency, len(lanes))
	if workers <= 1 {
		for _, lane := range lanes {
			run(lane)
		}
		return
	}
	r := &laneRun{lanes: lanes, run: run}
	r.wg.Add(workers)
	for range workers - 1 {
		if wp.claimIdle() {
			wp.jobs <- r
		} else {
			go wp.worker(r)
		}
	}
	r.work()
	r.wg.Done()
	r.wg.Wait()
}

// claimIdle takes one idle worker for a run, if there is one.
func (wp *workerPool) claimIdle() bool {
	for {
		n := wp.idle.Load()
		if n <= 0 {
			return false
		}
		if wp.idle.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// worker runs r and, if fewer than keep workers are kept, stays for the
// runs handed to it until the pool is closed.
func (wp *workerPool) worker(r *laneRun) {
	stay := wp.kept.Add(1) <= wp.keep
	if !stay {
		wp.kept.Add(-1)
	}
	for {
		r.work()
		if stay {
			wp.idle.Add(1) // before Done: see idle
		}
		r.wg.Done()
		if !stay {
			return
		}
		var open bool
		if r, open = <-wp.jobs; !open {
			wp.kept.Add(-1)
			return
		}
	}
}

// groupLanes splits the batch into lanes processed one record after the other:
// one per FIFO message group (in arrival order), one per other record.
func groupLanes(recs []events.SQSMessage) [][]int {
	lanes := make([][]int, 0, len(recs))
	// One backing array for the one-record lanes; capped at one element,
	// so a FIFO group's append copies instead of overwriting a neighbour.
	idx := make([]int, len(recs))
	var byGroup map[string]int
	for i := range recs {
		idx[i] = i
		g := recs[i].Attributes["MessageGroupId"]
		if g == "" {
			lanes = append(lanes, idx[i:i+1:i+1])
			continue
		}
		key := recs[i].EventSourceARN + "\x00" + g
		if byGroup == nil {
			byGroup = make(map[string]int)
		}
		if li, ok := byGroup[key]; ok {
			lanes[li] = append(lanes[li], i)
			continue
		}
		byGroup[key] = len(lanes)
		lanes = append(lanes, idx[i:i+1:i+1])
	}
	return lanes
}
