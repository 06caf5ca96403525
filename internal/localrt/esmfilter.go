package localrt

import (
	"context"
	"encoding/json"

	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// filter applies the mapping's FilterCriteria as Lambda does for SQS
// (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs-filtering.html):
// a record matching any pattern is kept, the others are deleted from the
// queue without reaching the function. A body that is a JSON object is
// matched as JSON, any other body as a string. Patterns that do not parse
// (AWS refuses them when the mapping is created) filter nothing.
func (p *poller) filter(ctx context.Context, msgs []sqstypes.Message) []sqstypes.Message {
	if len(p.m.FilterPatterns) == 0 || len(msgs) == 0 {
		return msgs
	}
	var patterns []Pattern
	for _, s := range p.m.FilterPatterns {
		pat, err := ParsePattern(s)
		if err != nil {
			p.log.Warn("filter pattern ignored (AWS would refuse the mapping)", "function", p.m.Function, "queue", p.m.QueueARN, "error", err)
			return msgs
		}
		patterns = append(patterns, pat)
	}
	ev := sqsEvent(msgs, p.m.QueueARN, p.region)
	var keep, drop []sqstypes.Message
	for i, rec := range ev.Records {
		b, err := json.Marshal(rec)
		var doc map[string]any
		if err == nil {
			err = json.Unmarshal(b, &doc)
		}
		if err != nil {
			keep = append(keep, msgs[i])
			continue
		}
		var body map[string]any
		if json.Unmarshal([]byte(rec.Body), &body) == nil {
			doc["body"] = body
		}
		matched := false
		for _, pat := range patterns {
			if pat.Match(doc) {
				matched = true
				break
			}
		}
		if matched {
			keep = append(keep, msgs[i])
		} else {
			drop = append(drop, msgs[i])
		}
	}
	if len(drop) > 0 {
		if err := p.delete(ctx, drop); err != nil {
			p.log.Warn("filtered-out records not deleted: they return after the visibility timeout", "function", p.m.Function, "queue", p.m.QueueARN, "error", err)
		}
		p.log.Debug("records filtered out and deleted", "function", p.m.Function, "queue", p.m.QueueARN, "records", len(drop))
	}
	return keep
}
