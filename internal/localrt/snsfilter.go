package localrt

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// acceptsMessage applies a subscription's filter policy as SNS does
// (https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html):
// with FilterPolicyScope MessageAttributes (the default) the policy is
// matched against the message attributes (attrs: name → string, number or
// list), with MessageBody against the message parsed as JSON (a body that is
// not a JSON object matches no policy). No policy accepts everything.
func acceptsMessage(subAttrs map[string]string, message string, attrs map[string]any) (bool, error) {
	policy := subAttrs["FilterPolicy"]
	if policy == "" {
		return true, nil
	}
	p, err := ParsePattern(policy)
	if err != nil {
		return false, fmt.Errorf("filter policy: %w", err)
	}
	if subAttrs["FilterPolicyScope"] == "MessageBody" {
		var body map[string]any
		if json.Unmarshal([]byte(message), &body) != nil {
			return false, nil
		}
		return p.Match(body), nil
	}
	doc := map[string]any{}
	for k, v := range attrs {
		doc[k] = v
	}
	return p.Match(doc), nil
}

// subscriptionAccepts reads the subscription's filter policy and applies it
// to a notification without message attributes (CloudWatch's alarm
// notifications carry none). A subscription whose attributes cannot be read
// gets the message.
func (r *Runtime) subscriptionAccepts(ctx context.Context, subscriptionARN, message string) bool {
	out, err := r.clients.SNS.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(subscriptionARN)})
	if err != nil {
		r.cfg.Logger.Warn("subscription attributes not readable: delivered unfiltered", "subscription", subscriptionARN, "error", err)
		return true
	}
	ok, err := acceptsMessage(out.Attributes, message, nil)
	if err != nil {
		r.cfg.Logger.Warn("subscription filter policy ignored (SNS would refuse it)", "subscription", subscriptionARN, "error", err)
		return true
	}
	if !ok {
		r.cfg.Logger.Debug("filtered out by the subscription's filter policy", "subscription", subscriptionARN)
	}
	return ok
}
