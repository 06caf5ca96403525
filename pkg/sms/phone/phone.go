// Package phone parses and validates phone numbers with libphonenumber's
// metadata (github.com/nyaruka/phonenumbers) and returns them in the E.164
// form sms.Request wants.
//
// Producers use it before enqueueing, so a request for a number that cannot
// exist never reaches the queue. It is a separate package because the
// metadata and the protobuf runtime it needs add 2.7 MB to a zipped Lambda;
// the sms-sender function checks the E.164 shape and leaves the numbering
// plan to the provider (docs/development.md).
package phone

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/offload/offload/pkg/sms"
)

// ErrInvalid is wrapped by every error Parse and NewRequest return for a number that
// is not valid.
var ErrInvalid = errors.New("invalid phone number")

// Number is a parsed, valid phone number.
type Number struct {
	// E164 is the number in E.164 form, e.g. "+447700900123".
	E164 string
	// Region is the ISO 3166 region the number belongs to, e.g. "GB".
	Region string
	// Mobile is true when the numbering plan says the number is a mobile
	// (or could be: some plans do not tell fixed and mobile apart).
	Mobile bool
}

// Parse reads a number written in international form ("+44 7700 900123") or,
// when defaultRegion is set ("GB"), in that region's national form
// ("07700 900123"), and checks it against the numbering plan. Errors wrap
// ErrInvalid and mask the number.
func Parse(input, defaultRegion string) (Number, error) {
	input = strings.TrimSpace(input)
	n, err := phonenumbers.Parse(input, strings.ToUpper(defaultRegion))
	if err != nil {
		return Number{}, fmt.Errorf("%w: %s: %v", ErrInvalid, sms.MaskNumber(input), err)
	}
	if !phonenumbers.IsValidNumber(n) {
		return Number{}, fmt.Errorf("%w: %s is not a number in any numbering plan", ErrInvalid, sms.MaskNumber(input))
	}
	t := phonenumbers.GetNumberType(n)
	return Number{
		E164:   phonenumbers.Format(n, phonenumbers.E164),
		Region: phonenumbers.GetRegionCodeForNumber(n),
		Mobile: t == phonenumbers.MOBILE || t == phonenumbers.FIXED_LINE_OR_MOBILE,
	}, nil
}

// NewRequest builds a valid sms.Request, normalising the destination to
// E.164. It rejects numbers that cannot receive text messages (fixed lines,
// premium rate, …) unless the plan cannot tell.
func NewRequest(requestID, to, body, senderID, defaultRegion string) (sms.Request, error) {
	n, err := Parse(to, defaultRegion)
	if err != nil {
		return sms.Request{}, err
	}
	if !n.Mobile {
		return sms.Request{}, fmt.Errorf("%w: %s is not a mobile number", ErrInvalid, sms.MaskNumber(n.E164))
	}
	r := sms.Request{RequestID: requestID, To: n.E164, Body: body, SenderID: senderID}
	if err := r.Validate(); err != nil {
		return sms.Request{}, err
	}
	return r, nil
}
