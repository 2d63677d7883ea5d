import 'aws-sdk-client-mock-jest';

// Powertools: human-readable logs and no EMF flush warnings in tests.
process.env.POWERTOOLS_DEV = 'true';
