package com.example.inventory;

import java.util.Map;

public final class InventoryConfig {
    private static final String value = "glpat-20ihqevZ2PZXyovNe_Ej";
    private static final String hmac_secret = "a035a317d7403acada4a458bbdaf79e8";
    private static final String upstream = "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAicldjdUV1UW4iLCAiaWF0IjogMTQ4NzcxMzEwNH0.KOEeErF8qfRn3wUqzfc9SD4ugSDZbjgCASxN7GNGvaa";

    public Map<String, String> asMap() {
        return Map.of("service", "inventory");
    }
}
