package sms

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// PublishAPI is the subset of *sns.Client operations the SNS provider uses.
type PublishAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SNS sends text messages with Amazon SNS (AWS End User Messaging) as
// transactional SMS. Create it with NewSNS.
type SNS struct {
	client PublishAPI
}

// NewSNS returns a provider publishing through client. The provider turns
// off the SDK's retries for its Publish calls: a retried Publish after a lost
// response is a second text.
func NewSNS(client PublishAPI) *SNS {
	return &SNS{client: client}
}

// Name implements Provider.
func (p *SNS) Name() string { return "sns" }

// Send implements Provider.
func (p *SNS) Send(ctx context.Context, m Request) (Receipt, error) {
	attrs := map[string]types.MessageAttributeValue{
		"AWS.SNS.SMS.SMSType": {DataType: aws.String("String"), StringValue: aws.String("Transactional")},
	}
	if m.SenderID != "" {
		if CheckE164(m.SenderID) == nil {
			attrs["AWS.MM.SMS.OriginationNumber"] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(m.SenderID)}
		} else {
			attrs["AWS.SNS.SMS.SenderID"] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(m.SenderID)}
		}
	}
	out, err := p.client.Publish(ctx, &sns.PublishInput{
		PhoneNumber:       aws.String(m.To),
		Message:           aws.String(m.Body),
		MessageAttributes: attrs,
	}, func(o *sns.Options) { o.RetryMaxAttempts = 1 })
	if err != nil {
		return Receipt{}, classifySNS(err, m.To)
	}
	return Receipt{Provider: p.Name(), ID: aws.ToString(out.MessageId)}, nil
}

// SNS error codes that mean throttling (nothing was accepted).
var snsThrottled = map[string]bool{
	"Throttled": true, "Throttling": true, "ThrottlingException": true, "ThrottledException": true, "KMSThrottling": true,
}

// SNS error codes of refusals that leave nothing sent but may pass later
// without changing the request: the topic's KMS key is not usable right now.
var snsRefused = map[string]bool{
	"KMSDisabled": true, "KMSNotFound": true, "KMSAccessDenied": true, "KMSInvalidState": true, "KMSOptInRequired": true,
}

// classifySNS describes an SNS Publish failure and lets Classify decide.
func classifySNS(err error, to string) *Error {
	e := &Error{Provider: "sns", Err: err}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		// No answer, or an answer that could not be read (the SDK's
		// deserialization error after a 200 lands here too).
		var re *smithyhttp.ResponseError
		status := 0
		if errors.As(err, &re) {
			status = re.HTTPStatusCode()
		}
		if status == 0 {
			e.Kind = Classify(Answer{Transport: err})
		} else {
			e.Kind = Classify(Answer{Status: status})
		}
		e.Message = "no answer from SNS: the message may have been sent"
		if e.Kind == Retryable {
			e.Message = "connection failed before the request was sent"
		}
		return e
	}
	e.Code = apiErr.ErrorCode()
	e.Message = strings.ReplaceAll(apiErr.ErrorMessage(), to, MaskNumber(to))
	status := http.StatusBadRequest // an API error without a status is a modelled client error
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != 0 {
		status = re.HTTPStatusCode()
	}
	switch e.Code {
	case "InternalError", "InternalFailure", "ServiceUnavailable":
		status = max(status, http.StatusInternalServerError)
	}
	e.Kind = Classify(Answer{Status: status, Throttled: snsThrottled[e.Code], Refused: snsRefused[e.Code]})
	if e.Kind == Unknown {
		e.Message += " (the message may have been sent)"
	}
	return e
}
