package awsenv

import (
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// HTTPClient returns next (the SDK's default client when nil) changed in
// one way: the transport never fails a request whose body the SDK closed
// before the transport finished with it, so an answer is never cut.
//
// The race it closes is between smithy-go and net/http. smithy-go wraps
// every request body in a reader whose WriteTo answers io.EOF once the body
// is closed, and closes the body as soon as the answer's headers arrive.
// net/http's transport writes a body to the socket and then reads the body
// once more, through WriteTo, to check that nothing is left over. When the
// answer's headers arrive before that check runs — the writing goroutine
// waited a few milliseconds for a CPU and the server answered within them —
// the check reads io.EOF, the transport takes it for a failed write and
// closes the connection while the SDK is reading the answer's body. The SDK
// then retries a call whose first attempt did its work: a message sent
// twice, the messages of a receive hidden for their visibility timeout, a
// conditional write meeting itself. On a busy machine next to a local
// emulator this happened about 15 times a minute.
//
// Every SDK configuration in the repository uses it: Load's, and
// sdkconfig.Load's for code outside Lambda (which wraps the client
// config.LoadDefaultConfig built, as the config package adds a CA bundle
// only to its own client type).
func HTTPClient(next aws.HTTPClient) aws.HTTPClient {
	if next == nil {
		next = awshttp.NewBuildableClient()
	}
	return bodyRaceSafe{next}
}

type bodyRaceSafe struct{ next aws.HTTPClient }

// Do sends r with its body's WriteTo hidden: the transport's last check then
// reads through Read, which answers (0, io.EOF) once the body is closed —
// the end of the body, as the check expects.
func (c bodyRaceSafe) Do(r *http.Request) (*http.Response, error) {
	if _, ok := r.Body.(io.WriterTo); ok && r.Body != http.NoBody {
		r = r.WithContext(r.Context()) // a copy: the caller's request stays as it was
		r.Body = readCloser{r.Body}
	}
	return c.next.Do(r)
}

// readCloser is an io.ReadCloser and nothing more.
type readCloser struct{ io.ReadCloser }
