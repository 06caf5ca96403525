package sms

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/require"
)

type fakePublish struct {
	in       *sns.PublishInput
	attempts int
	err      error
}

func (f *fakePublish) Publish(_ context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.in = in
	var o sns.Options
	for _, fn := range optFns {
		fn(&o)
	}
	f.attempts = o.RetryMaxAttempts
	if f.err != nil {
		return nil, f.err
	}
	return &sns.PublishOutput{MessageId: aws.String("mid-1")}, nil
}

func TestSNSPublishesTransactionalSMSWithoutSDKRetries(t *testing.T) {
	t.Parallel()
	f := &fakePublish{}
	rec, err := NewSNS(f).Send(context.Background(), Request{To: "+447700900123", Body: "hi", SenderID: "Offload"})
	require.NoError(t, err)
	require.Equal(t, Receipt{Provider: "sns", ID: "mid-1"}, rec)
	require.Equal(t, "+447700900123", aws.ToString(f.in.PhoneNumber))
	require.Equal(t, "hi", aws.ToString(f.in.Message))
	require.Nil(t, f.in.TopicArn)
	require.Equal(t, "Transactional", aws.ToString(f.in.MessageAttributes["AWS.SNS.SMS.SMSType"].StringValue))
	require.Equal(t, "Offload", aws.ToString(f.in.MessageAttributes["AWS.SNS.SMS.SenderID"].StringValue))
	require.NotContains(t, f.in.MessageAttributes, "AWS.SNS.SMS.MaxPrice", "no price cap: SNS's account default")
	require.Equal(t, 1, f.attempts, "a retried Publish is a second text")

	_, err = NewSNS(f).Send(context.Background(), Request{To: "+447700900123", Body: "hi", SenderID: "+15005550006"})
	require.NoError(t, err)
	require.Equal(t, "+15005550006", aws.ToString(f.in.MessageAttributes["AWS.MM.SMS.OriginationNumber"].StringValue))
	require.NotContains(t, f.in.MessageAttributes, "AWS.SNS.SMS.SenderID")
}

func apiErr(code, msg string, status int) error {
	return &smithy.OperationError{ServiceID: "SNS", OperationName: "Publish", Err: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: msg},
	}}
}

func TestSNSClassifiesErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		kind Kind
	}{
		{"invalid number", apiErr("InvalidParameter", "Invalid parameter: PhoneNumber +447700900123", 400), Rejected},
		{"opted out", apiErr("OptedOut", "Phone number is opted out", 400), Rejected},
		{"auth", apiErr("AuthorizationError", "not authorized", 403), Rejected},
		{"throttled", apiErr("Throttling", "Rate exceeded", 400), Retryable},
		{"throttled 429", apiErr("ThrottledException", "Rate exceeded", 429), Retryable},
		{"kms key disabled", apiErr("KMSDisabled", "key disabled", 400), Retryable},
		{"internal", apiErr("InternalError", "oops", 500), Unknown},
		{"internal failure", apiErr("InternalFailure", "oops", 500), Unknown},
		{"unavailable", apiErr("ServiceUnavailable", "busy", 503), Unknown},
		{"unknown 503", apiErr("Weird", "?", 503), Unknown},
		{"undecodable 200", &smithy.OperationError{ServiceID: "SNS", OperationName: "Publish", Err: &smithy.DeserializationError{Err: errors.New("unexpected EOF")}}, Unknown},
		{"reset", &smithy.OperationError{ServiceID: "SNS", OperationName: "Publish", Err: &smithyhttp.RequestSendError{Err: &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}}}, Unknown},
		{"unknown 400", apiErr("Weird", "?", 400), Rejected},
		{"refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, Retryable},
		{"timeout", context.DeadlineExceeded, Unknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewSNS(&fakePublish{err: tc.err}).Send(context.Background(), Request{To: "+447700900123", Body: "x"})
			require.Equal(t, tc.kind, KindOf(err), "%v", err)
			require.NotContains(t, err.Error(), "7700900123")
			require.ErrorIs(t, err, tc.err)
		})
	}
}
