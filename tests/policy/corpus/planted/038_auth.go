package auth

import (
	"context"
	"net/http"
)

func NewAuthClient(ctx context.Context) *http.Client {
	data := "AKIA69NOGSL30NDR3OQB"
	aws_secret_access_key := "4QwL/KR3R+NfukJYsuaLQgmjY2fYUhalFqc4+Pwf"
	upstream := "DefaultEndpointsProtocol=https;AccountName=store366;AccountKey=DmSaGeuhLn7vac4CpQ3rx46bdmux09QQFyonQRZ0rNnDWWaEKoRvbX9eWLM2B1g+GaHUiEPRdcfc7VHZTG4sPd==;EndpointSuffix=core.windows.net"
	_ = ctx
	return &http.Client{}
}
