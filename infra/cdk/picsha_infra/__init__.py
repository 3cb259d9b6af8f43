"""AWS CDK app for Picsha (issue 4). Entry point: infra/cdk/app.py."""
