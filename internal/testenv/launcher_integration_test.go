//go:build integration

package testenv_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
)

// The launcher patches moto so Terraform neither hangs on RedriveAllowPolicy nor
// sees a whitespace diff on RedrivePolicy. These tests pin both patches.
func TestLauncherStoresRedrivePoliciesAsCompactJSON(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := sqs.NewFromConfig(testenv.AWSConfig(t))
	name := testenv.UniqueName("launcher")

	dlq, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq")})
	require.NoError(t, err)
	dlqARN := queueARN(t, client, *dlq.QueueUrl)

	redrive := `{"deadLetterTargetArn": "` + dlqARN + `", "maxReceiveCount": "3"}`
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String(name),
		Attributes: map[string]string{"RedrivePolicy": redrive},
	})
	require.NoError(t, err)
	srcARN := queueARN(t, client, *q.QueueUrl)

	allow := `{"redrivePermission": "byQueue", "sourceQueueArns": ["` + srcARN + `"]}`
	_, err = client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl:   dlq.QueueUrl,
		Attributes: map[string]string{"RedriveAllowPolicy": allow},
	})
	require.NoError(t, err)

	got, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	require.NoError(t, err)
	require.Equal(t, `{"deadLetterTargetArn":"`+dlqARN+`","maxReceiveCount":3}`, got.Attributes["RedrivePolicy"])

	got, err = client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: dlq.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameRedriveAllowPolicy},
	})
	require.NoError(t, err)
	require.Equal(t, `{"redrivePermission":"byQueue","sourceQueueArns":["`+srcARN+`"]}`, got.Attributes["RedriveAllowPolicy"])

	// A queue that never had one reports none.
	got, err = client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	require.NoError(t, err)
	require.NotContains(t, got.Attributes, "RedriveAllowPolicy")
}

func TestLauncherRecordsSMSPublishedToPhoneNumbers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := sns.NewFromConfig(testenv.AWSConfig(t))
	body := "launcher test " + testenv.UniqueName("sms")

	out, err := client.Publish(ctx, &sns.PublishInput{
		PhoneNumber: aws.String("+15555550123"),
		Message:     aws.String(body),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"AWS.SNS.SMS.SMSType": {DataType: aws.String("String"), StringValue: aws.String("Transactional")},
		},
	})
	require.NoError(t, err)

	var found []testenv.SMS
	for _, m := range testenv.SentSMS(t) {
		if m.Message == body {
			found = append(found, m)
		}
	}
	require.Len(t, found, 1, "exactly one recorded SMS with this body")
	require.Equal(t, *out.MessageId, found[0].MessageID)
	require.Equal(t, "+15555550123", found[0].PhoneNumber)
	require.Equal(t, "Transactional", found[0].Attributes["AWS.SNS.SMS.SMSType"])
}

func queueARN(t *testing.T, client *sqs.Client, url string) string {
	t.Helper()
	out, err := client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	require.NoError(t, err)
	arn := out.Attributes["QueueArn"]
	require.NotEmpty(t, arn)
	return arn
}
