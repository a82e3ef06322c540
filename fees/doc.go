// Package fees is the domain of feebridge.
package fees
