package io.jobstream.diagnosis;

import java.util.List;
import java.util.Map;

/**
 * One cause of lag: where ({@code stage}, one of {@link Rules#STAGES}, and the {@code hop} it shows in), the numbers
 * that show it, what to do (a sentence ending in a docs/OPERATIONS.md anchor), and the share of the end-to-end lag it
 * explains. {@code subject} names who, when the cause is one party (a subscriber: user, address, jobs); empty
 * otherwise. {@code symptoms} are what this cause makes other hops show (back-pressure upstream), so that no one
 * reads them as causes of their own.
 */
public record Finding(
        String stage,
        String hop,
        String summary,
        Map<String, Object> evidence,
        Map<String, Object> subject,
        List<String> symptoms,
        String action,
        double explains) {}
