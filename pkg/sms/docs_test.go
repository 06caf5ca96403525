package sms

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

type docSecret struct{ value string }

func (d docSecret) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(d.value)}, nil
}

// TestDocumentedTwilioSecretExamplesAreAccepted feeds every Twilio secret
// example the docs tell operators to put (`--secret-string '{"account_sid"…}'`)
// to the credentials parser the sender uses: an example the sender refuses
// would leave a freshly deployed Twilio stack unable to send anything.
func TestDocumentedTwilioSecretExamplesAreAccepted(t *testing.T) {
	root := filepath.Join("..", "..")
	docs := []string{"README.md"}
	for _, env := range []string{"dev", "staging", "prod"} {
		docs = append(docs, filepath.Join("terraform", "environments", env, "README.md"))
	}
	example := regexp.MustCompile(`--secret-string '(\{[^']*"account_sid"[^']*\})'`)
	for _, doc := range docs {
		raw, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			t.Fatalf("read %s: %v", doc, err)
		}
		found := example.FindAllSubmatch(raw, -1)
		if len(found) == 0 {
			t.Errorf("%s: no Twilio secret example found (the test would pass vacuously)", doc)
		}
		for _, m := range found {
			src := NewSecretCredentials(docSecret{string(m[1])}, "twilio", 0)
			if _, err := src.Credentials(context.Background()); err != nil {
				t.Errorf("%s: the documented secret %s is refused: %v", doc, m[1], err)
			}
		}
	}
}
