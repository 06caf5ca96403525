// Package dlq turns a dead-letter queue from a place messages go to die into
// something on-call can act on: it parses the CloudWatch alarm that fires on
// a DLQ (delivered through SNS or invoking Lambda directly), samples the
// queue without consuming it, composes one notification (bodies redacted,
// failure reasons kept) and moves messages back to their source queue.
//
// Sampling receives with a short visibility timeout and sets it back to zero
// at once, so the messages stay where they are for the redrive. Redrive uses
// SQS's StartMessageMoveTask where the API exists and falls back to a mover
// that receives, re-sends with every attribute and deletes only what was sent
// — so nothing is lost, and at worst a message is delivered twice (consumers
// are idempotent).
package dlq
