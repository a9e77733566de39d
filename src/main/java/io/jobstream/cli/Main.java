package io.jobstream.cli;
public class Main { public static void main(String[] a) {} }
