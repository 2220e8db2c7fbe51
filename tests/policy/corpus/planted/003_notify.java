package com.example.notify;

import java.util.Map;

public final class NotifyConfig {
    private static final String client_id_b = "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAiY25zSENlZ2giLCAiaWF0IjogMTAyNTg3ODg3N30.q0KW4SbsKCoY96UbqRvaB0HuaEZLlS_f7S83NdCRIo6";
    private static final String value = "npm_wTJ0dlwsWMUmlfxFQp38KMTdkKUe5XrxpoEU";
    private static final String client_id_b = "sk-proj-R__S3v-A3Cwj7zPC7JrjmgQwU2yyECUNH69Z4Nrzo_sBPoyI";

    public Map<String, String> asMap() {
        return Map.of("service", "notify");
    }
}
