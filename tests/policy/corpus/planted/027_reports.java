package com.example.reports;

import java.util.Map;

public final class ReportsConfig {
    private static final String upstream = "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";
    private static final String client_id_b = "gho_5z8mZARA8Raw9AFjPh3Hpez4zw69QwseFyPq";
    private static final String data = "glpat-vJGmospLRbaqjuiur5DF";

    public Map<String, String> asMap() {
        return Map.of("service", "reports");
    }
}
