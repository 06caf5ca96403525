package batch

import (
	"sync"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/events"
)

// runLanes calls run for every lane, on up to concurrency goroutines (the
// caller's alone when that is 1 or there is one lane).
func runLanes(lanes [][]int, concurrency int, run func(lane []int)) {
	workers := min(concurrency, len(lanes))
	if workers <= 1 {
		for _, lane := range lanes {
			run(lane)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(lanes) {
					return
				}
				run(lanes[i])
			}
		})
	}
	wg.Wait()
}

// groupLanes splits the batch into lanes processed one record after the other:
// one per FIFO message group (in arrival order), one per other record.
func groupLanes(recs []events.SQSMessage) [][]int {
	lanes := make([][]int, 0, len(recs))
	var byGroup map[string]int
	for i := range recs {
		g := recs[i].Attributes["MessageGroupId"]
		if g == "" {
			lanes = append(lanes, []int{i})
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
		lanes = append(lanes, []int{i})
	}
	return lanes
}
