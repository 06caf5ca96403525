//go:build integration

package sms_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/sms"
)

func TestIntegrationSNSProviderSendsOneTransactionalSMS(t *testing.T) {
	t.Parallel()
	p := sms.NewSNS(sns.NewFromConfig(testenv.AWSConfig(t)))
	body := "integration " + testenv.UniqueName("sms")

	rec, err := p.Send(context.Background(), sms.Request{RequestID: "r-1", To: "+447700900123", Body: body, SenderID: "Offload"})
	require.NoError(t, err)
	require.Equal(t, "sns", rec.Provider)
	require.NotEmpty(t, rec.ID)

	var sent []testenv.SMS
	for _, m := range testenv.SentSMS(t) {
		if m.Message == body {
			sent = append(sent, m)
		}
	}
	require.Len(t, sent, 1)
	require.Equal(t, rec.ID, sent[0].MessageID)
	require.Equal(t, "+447700900123", sent[0].PhoneNumber)
	require.Equal(t, "Transactional", sent[0].Attributes["AWS.SNS.SMS.SMSType"])
	require.Equal(t, "Offload", sent[0].Attributes["AWS.SNS.SMS.SenderID"])
}

func TestIntegrationSNSRejectsMalformedNumbersPermanently(t *testing.T) {
	t.Parallel()
	p := sms.NewSNS(sns.NewFromConfig(testenv.AWSConfig(t)))
	_, err := p.Send(context.Background(), sms.Request{To: "+12-34", Body: "x"})
	require.Equal(t, sms.Rejected, sms.KindOf(err), "%v", err)
}
