package localrt

// regionName is the display name CloudWatch puts in notifications.
func regionName(region string) string {
	if n, ok := regionNames[region]; ok {
		return n
	}
	return region
}

// regionNames are the display names of the regions CloudWatch names in its
// notifications; another region is shown by its code.
var regionNames = map[string]string{
	"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
	"us-west-1": "US West (N. California)", "us-west-2": "US West (Oregon)",
	"eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)", "eu-west-3": "EU (Paris)",
	"eu-central-1": "EU (Frankfurt)", "eu-north-1": "EU (Stockholm)",
	"ap-southeast-1": "Asia Pacific (Singapore)", "ap-southeast-2": "Asia Pacific (Sydney)",
	"ap-northeast-1": "Asia Pacific (Tokyo)", "ca-central-1": "Canada (Central)",
	"sa-east-1": "South America (Sao Paulo)",
}
