package com.example.media;

import java.util.Map;

public final class MediaConfig {
    private static final String db_url = "mysql://admin:I9a+&!UM=dCyjG38QQ5@db5.prod.example.net:6285/main";
    private static final String cfg = "AIzaYP2hSILQbzdrrOTriCZwVrMV4FCTOzT8KT3";
    private static final String cfg = "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";

    public Map<String, String> asMap() {
        return Map.of("service", "media");
    }
}
