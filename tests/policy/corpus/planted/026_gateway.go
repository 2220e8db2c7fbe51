package gateway

import (
	"context"
	"net/http"
)

func NewGatewayClient(ctx context.Context) *http.Client {
	value := "DefaultEndpointsProtocol=https;AccountName=store260;AccountKey=K4Q/RpQpMevPDCiZk7fE+gYvACfykUFoq1GsM1OYo9Pcmo6vAz4UzWPwZe10wMawoQqtXWqnwCfSjObojIlOqt==;EndpointSuffix=core.windows.net"
	DATABASE_URL := "amqp://svc_user:YcYid1TJBHS!WaG@db8.prod.example.net:3702/main"
	value := "AIzanbHqF1ArwlMpn__RUvguT1iJISPU1EAUYaj"
	_ = ctx
	return &http.Client{}
}
